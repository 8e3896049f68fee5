package dev.sigil.server.credential;

/**
 * A broker could not do what it was asked. {@link Rejected} is the requester's mistake (an unknown
 * resource, a malformed public key): it maps to a 400 and is never retried. {@link Unavailable} is
 * the backend's failure (connection refused, SQL error): grants fail closed, revocations are retried
 * with backoff until they succeed. Messages name what was wrong and never carry a secret.
 */
public abstract sealed class BrokerException extends RuntimeException {
    private BrokerException(String message, Throwable cause) {
        super(message, cause);
    }

    public static final class Rejected extends BrokerException {
        public Rejected(String message) {
            super(message, null);
        }
    }

    public static final class Unavailable extends BrokerException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
