package dev.sigil.server.credential;

import java.util.Locale;

/**
 * Where a lease is in its life. Transitions only go forward: {@code PENDING → ACTIVE → REVOKING →
 * REVOKED}, and {@code PENDING → REVOKING} for a grant that failed or was interrupted. A lease in
 * {@code PENDING}, {@code ACTIVE} or {@code REVOKING} may have something granted in the backend;
 * {@code REVOKED} means the broker confirmed the removal.
 */
public enum LeaseState {
    /** Recorded durably; the broker's grant is in progress (or was interrupted by a crash). */
    PENDING,
    /** Granted and handed to the holder. */
    ACTIVE,
    /** Revocation intent recorded durably; the broker call is pending or being retried. */
    REVOKING,
    /** The broker removed everything granted. Final. */
    REVOKED;

    /** The lower-case name used in JSON, the CLI and metrics. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static LeaseState parse(String text) {
        for (LeaseState state : values()) {
            if (state.wireName().equals(text)) {
                return state;
            }
        }
        throw new IllegalArgumentException("lease state '" + text + "' is not valid; use pending, active, revoking or revoked");
    }
}
