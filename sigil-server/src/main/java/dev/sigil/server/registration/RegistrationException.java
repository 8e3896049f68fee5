package dev.sigil.server.registration;

import dev.sigil.core.SigilException;
import java.util.Objects;

/**
 * A registration request that cannot be carried out, with a stable {@link Reason} that the API
 * layers map to their status codes. Nothing was changed when this is thrown: the whole transaction
 * was rolled back.
 */
public final class RegistrationException extends SigilException {

    /** Why the request failed. The names are part of the API; add, never rename. */
    public enum Reason {
        /** The request itself is malformed; the message names the bad value and what is valid. */
        INVALID_ARGUMENT,
        /** The entry (or other object) named by the request does not exist. */
        NOT_FOUND,
        /** An equal entry (same SPIFFE ID, parent and selector set) already exists. */
        ALREADY_EXISTS,
        /** The entry changed since the caller read it; read it again and reapply the change. */
        REVISION_CONFLICT
    }

    private final Reason reason;

    public RegistrationException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    static RegistrationException invalid(String message) {
        return new RegistrationException(Reason.INVALID_ARGUMENT, message);
    }

    static RegistrationException notFound(String id) {
        return new RegistrationException(Reason.NOT_FOUND, "no registration entry has the id '" + id + "'");
    }
}
