package dev.sigil.core;

/**
 * Base of every exception Sigil throws on purpose. Unchecked; messages are lower-case, name the bad
 * value and what would be valid, and never contain secret material.
 */
public class SigilException extends RuntimeException {
    public SigilException(String message) {
        super(message);
    }

    public SigilException(String message, Throwable cause) {
        super(message, cause);
    }
}
