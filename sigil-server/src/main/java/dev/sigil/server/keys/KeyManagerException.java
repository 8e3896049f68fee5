package dev.sigil.server.keys;

import dev.sigil.core.SigilException;

/** A key could not be generated, stored, read or used. Messages name the key and where it lives, never its material. */
public final class KeyManagerException extends SigilException {
    public KeyManagerException(String message) {
        super(message);
    }

    public KeyManagerException(String message, Throwable cause) {
        super(message, cause);
    }
}
