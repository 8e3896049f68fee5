package dev.sigil.server.audit;

import dev.sigil.core.SigilException;

/** An audit event that cannot be recorded as given (a malformed field), or an audit key that cannot be used; the message names it. */
public final class AuditException extends SigilException {
    public AuditException(String message) {
        super(message);
    }
}
