package dev.sigil.client;

/**
 * A token that must not be accepted, and why. {@link #reason()} is for the program (map it to an RFC 6750
 * {@code invalid_token} or {@code insufficient_scope} challenge); the message is one line for logs that
 * never contains the token.
 */
public final class InvalidTokenException extends Exception {
    /** What failed. */
    public enum Reason {
        MALFORMED, WRONG_TYPE, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER, EXPIRED, NOT_YET_VALID, WRONG_AUDIENCE,
        INSUFFICIENT_SCOPE, NOT_BOUND_TO_CLIENT, REVOKED, STATUS_UNAVAILABLE,
        /** A workload proof token whose {@code jti} was already accepted within its lifetime. */
        REPLAYED,
        /** A workload proof token not bound to what was presented with it (its WIT, access token or transaction token). */
        PROOF_MISMATCH,
        /** A WIT-SVID whose subject is not in the trust domain the verifier trusts. */
        WRONG_TRUST_DOMAIN
    }

    private final Reason reason;

    InvalidTokenException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    InvalidTokenException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
