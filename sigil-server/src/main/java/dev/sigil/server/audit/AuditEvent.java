package dev.sigil.server.audit;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Something that happened and must be on the record: who ({@code actor}) did what ({@code action},
 * dotted lower-case such as {@code entry.create}) to what ({@code subject}), and how it ended.
 * {@code details} are small key/value facts; they must never hold secrets (store a keyed hash or an
 * id instead). Validated when built; the trail adds the sequence number, time and hashes.
 */
public record AuditEvent(String actor, String action, String subject, AuditOutcome outcome, Map<String, String> details) {
    public static final int MAX_ACTOR_LENGTH = 256;
    public static final int MAX_SUBJECT_LENGTH = 2048;
    public static final int MAX_DETAIL_LENGTH = 2048;
    public static final int MAX_DETAILS = 32;
    private static final Pattern ACTION = Pattern.compile("[a-z0-9_]+(\\.[a-z0-9_]+)*");
    private static final Pattern DETAIL_KEY = Pattern.compile("[a-z0-9_]{1,64}");

    public AuditEvent {
        checkActor(actor);
        if (action == null || action.length() > 64 || !ACTION.matcher(action).matches()) {
            throw new AuditException("audit action '" + action + "' is malformed; expected dotted lower-case words of "
                    + "a-z, 0-9 and '_', at most 64 characters, such as 'entry.create'");
        }
        checkText("audit subject", subject, MAX_SUBJECT_LENGTH);
        Objects.requireNonNull(outcome, "outcome");
        details = details == null ? Map.of() : details;
        if (details.size() > MAX_DETAILS) {
            throw new AuditException("audit event has " + details.size() + " details; at most " + MAX_DETAILS + " are allowed");
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        details.forEach((key, value) -> {
            if (key == null || !DETAIL_KEY.matcher(key).matches()) {
                throw new AuditException("audit detail key '" + key + "' is malformed; expected 1 to 64 characters of a-z, 0-9 and '_'");
            }
            if (value == null || value.length() > MAX_DETAIL_LENGTH) {
                throw new AuditException("audit detail '" + key + "' must be a string of at most " + MAX_DETAIL_LENGTH
                        + " characters" + (value == null ? ", not null" : ", got " + value.length()));
            }
            sorted.put(key, value);
        });
        details = Collections.unmodifiableMap(sorted);
    }

    public static AuditEvent success(String actor, String action, String subject, Map<String, String> details) {
        return new AuditEvent(actor, action, subject, AuditOutcome.SUCCESS, details);
    }

    public static AuditEvent denied(String actor, String action, String subject, Map<String, String> details) {
        return new AuditEvent(actor, action, subject, AuditOutcome.DENIED, details);
    }

    /**
     * Checks an actor the way an event would: non-blank, at most {@value #MAX_ACTOR_LENGTH}
     * characters, no control characters. Components call this before they change anything.
     */
    public static void checkActor(String actor) {
        checkText("audit actor", actor, MAX_ACTOR_LENGTH);
    }

    private static void checkText(String what, String text, int maxLength) {
        if (text == null || text.isBlank()) {
            throw new AuditException(what + " is blank; it must name who or what is concerned");
        }
        if (text.length() > maxLength) {
            throw new AuditException(what + " is " + text.length() + " characters long; at most " + maxLength + " are allowed");
        }
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                throw new AuditException(what + " '" + text.replaceAll("\\p{Cntrl}", "?")
                        + "' has a control character at position " + i + "; none are allowed");
            }
        }
    }
}
