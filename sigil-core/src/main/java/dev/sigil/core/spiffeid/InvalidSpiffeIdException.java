package dev.sigil.core.spiffeid;

import dev.sigil.core.SigilException;

/** A string that is not a valid SPIFFE ID or trust domain name; the message names the offending part. */
public final class InvalidSpiffeIdException extends SigilException {
    public InvalidSpiffeIdException(String message) {
        super(message);
    }
}
