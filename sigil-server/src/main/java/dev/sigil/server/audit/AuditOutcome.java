package dev.sigil.server.audit;

import java.util.Locale;

/** How the audited action ended. Stored as its lower-case {@link #wireName()}. */
public enum AuditOutcome {
    /** The action was carried out. */
    SUCCESS,
    /** The action was refused: not allowed, unknown or expired credential, failed check. */
    DENIED,
    /** The action was allowed but could not be carried out. */
    FAILURE;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static AuditOutcome fromWireName(String name) {
        for (AuditOutcome outcome : values()) {
            if (outcome.wireName().equals(name)) {
                return outcome;
            }
        }
        throw new AuditException("audit outcome '" + name + "' is unknown; expected success, denied or failure");
    }
}
