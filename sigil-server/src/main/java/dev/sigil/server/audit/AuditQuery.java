package dev.sigil.server.audit;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Which audit records to return: all given criteria must match. Results come in {@code seq} order,
 * starting after {@code afterSeq}, at most {@code limit} of them; pass the last returned seq as
 * {@code afterSeq} to read on. {@code from} is inclusive, {@code to} exclusive. {@code workload}
 * matches a record whose actor or subject equals it; {@code details} entries must each equal the
 * record's details value under that key (keys are {@code [a-z][a-z0-9_]*}).
 */
public record AuditQuery(
        Optional<String> actor,
        Optional<String> subject,
        Optional<String> workload,
        Optional<String> actionPrefix,
        Map<String, String> details,
        Optional<Instant> from,
        Optional<Instant> to,
        long afterSeq,
        int limit) {
    public static final int MAX_LIMIT = 10_000;
    private static final Pattern DETAIL_KEY = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    /** Named kinds whose action prefix is not simply {@code <kind>.} (see {@link #byKind}). */
    public static final Map<String, String> NAMED_KINDS = Map.of("drift", "workload.drift");
    /**
     * The first word of every action the server records (docs/audit.md); a kind must start with one of
     * them, so a misspelt kind is refused instead of matching nothing. Add the word here with a new
     * family of actions.
     */
    public static final java.util.SortedSet<String> KINDS = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(java.util.List.of(
            "agent", "authority", "credential", "drift", "entry", "identity", "jointoken", "leak", "owner", "policy", "svid", "task",
            "token", "workload")));
    private static final Pattern KIND = Pattern.compile("[a-z0-9_]+(\\.[a-z0-9_]+)*");

    public AuditQuery {
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(actionPrefix, "actionPrefix");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        for (String key : details.keySet()) {
            if (!DETAIL_KEY.matcher(key).matches()) {
                throw new AuditException("audit query details key '" + key + "' is invalid; keys are [a-z][a-z0-9_]*, at most 64 characters");
            }
        }
        details = Map.copyOf(new TreeMap<>(details));
        if (afterSeq < 0) {
            throw new AuditException("audit query afterSeq is " + afterSeq + "; it must be 0 or more");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new AuditException("audit query limit is " + limit + "; it must be between 1 and " + MAX_LIMIT);
        }
    }

    /** Every record, the first 1000. */
    public static AuditQuery all() {
        return new AuditQuery(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), Optional.empty(),
                Optional.empty(), 0, 1000);
    }

    public AuditQuery byActor(String value) {
        return new AuditQuery(Optional.of(value), subject, workload, actionPrefix, details, from, to, afterSeq, limit);
    }

    public AuditQuery bySubject(String value) {
        return new AuditQuery(actor, Optional.of(value), workload, actionPrefix, details, from, to, afterSeq, limit);
    }

    /** Records whose actor or subject is {@code spiffeId}. */
    public AuditQuery byWorkload(String spiffeId) {
        return new AuditQuery(actor, subject, Optional.of(spiffeId), actionPrefix, details, from, to, afterSeq, limit);
    }

    /** Actions starting with {@code prefix}: {@code "entry."} matches entry.create, entry.update, … */
    public AuditQuery byActionPrefix(String prefix) {
        return new AuditQuery(actor, subject, workload, Optional.of(prefix), details, from, to, afterSeq, limit);
    }

    /** Records whose details hold {@code value} under {@code key} (e.g. {@code resource}, {@code task}). */
    public AuditQuery byDetail(String key, String value) {
        Map<String, String> more = new TreeMap<>(details);
        more.put(key, Objects.requireNonNull(value, "value"));
        return new AuditQuery(actor, subject, workload, actionPrefix, more, from, to, afterSeq, limit);
    }

    /**
     * Records of one kind. A kind names an action prefix: {@code drift} is {@code workload.drift} (the
     * agents' workload drift reports); any other kind {@code k} (dotted lower-case, e.g. {@code entry},
     * {@code agent}, {@code svid.x509}) is the actions starting with {@code k.}.
     */
    public AuditQuery byKind(String kind) {
        return byActionPrefix(kindPrefix(kind));
    }

    /** The action prefix of {@code kind}; see {@link #byKind}. */
    public static String kindPrefix(String kind) {
        if (kind == null || kind.length() > 64 || !KIND.matcher(kind).matches()) {
            throw new AuditException("audit kind '" + kind + "' is invalid; use dotted lower-case words such as drift, entry or agent");
        }
        String family = kind.contains(".") ? kind.substring(0, kind.indexOf('.')) : kind;
        if (!KINDS.contains(family)) {
            throw new AuditException("audit kind '" + kind + "' is unknown; valid kinds: " + String.join(", ", KINDS)
                    + " (or one of them followed by more words, such as svid.x509)");
        }
        return NAMED_KINDS.getOrDefault(kind, kind + ".");
    }

    public AuditQuery between(Instant fromInclusive, Instant toExclusive) {
        return new AuditQuery(actor, subject, workload, actionPrefix, details, Optional.of(fromInclusive), Optional.of(toExclusive),
                afterSeq, limit);
    }

    public AuditQuery since(Instant fromInclusive) {
        return new AuditQuery(actor, subject, workload, actionPrefix, details, Optional.of(fromInclusive), to, afterSeq, limit);
    }

    public AuditQuery until(Instant toExclusive) {
        return new AuditQuery(actor, subject, workload, actionPrefix, details, from, Optional.of(toExclusive), afterSeq, limit);
    }

    public AuditQuery after(long seq) {
        return new AuditQuery(actor, subject, workload, actionPrefix, details, from, to, seq, limit);
    }

    public AuditQuery limit(int value) {
        return new AuditQuery(actor, subject, workload, actionPrefix, details, from, to, afterSeq, value);
    }
}
