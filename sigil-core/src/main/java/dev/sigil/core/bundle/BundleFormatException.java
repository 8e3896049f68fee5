package dev.sigil.core.bundle;

import dev.sigil.core.SigilException;

/** A SPIFFE bundle document that does not follow the format; the message names the offending member. */
public final class BundleFormatException extends SigilException {
    public BundleFormatException(String message) {
        super(message);
    }

    public BundleFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
