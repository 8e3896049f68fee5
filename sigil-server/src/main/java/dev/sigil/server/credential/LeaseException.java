package dev.sigil.server.credential;

import dev.sigil.core.SigilException;

/**
 * A lease operation that cannot be done, by kind: {@link Invalid} (the requester's mistake, 400),
 * {@link Denied} (policy, task or obligation refused, 403), {@link NotFound} (404) and
 * {@link Unavailable} (the backend or datastore failed, 503; nothing was granted). Messages name what
 * was wrong and never carry a secret.
 */
public abstract sealed class LeaseException extends SigilException {
    private LeaseException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The HTTP status this refusal maps to. */
    public abstract int status();

    /** The short error code for JSON responses ({@code invalid_request}, {@code access_denied}, …). */
    public abstract String error();

    public static final class Invalid extends LeaseException {
        public Invalid(String message) {
            super(message, null);
        }

        @Override
        public int status() {
            return 400;
        }

        @Override
        public String error() {
            return "invalid_request";
        }
    }

    public static final class Denied extends LeaseException {
        public Denied(String message) {
            super(message, null);
        }

        @Override
        public int status() {
            return 403;
        }

        @Override
        public String error() {
            return "access_denied";
        }
    }

    public static final class NotFound extends LeaseException {
        public NotFound(String message) {
            super(message, null);
        }

        @Override
        public int status() {
            return 404;
        }

        @Override
        public String error() {
            return "not_found";
        }
    }

    public static final class Unavailable extends LeaseException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public int status() {
            return 503;
        }

        @Override
        public String error() {
            return "temporarily_unavailable";
        }
    }
}
