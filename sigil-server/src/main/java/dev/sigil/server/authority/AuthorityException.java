package dev.sigil.server.authority;

import dev.sigil.core.SigilException;

/**
 * The authority cannot do what was asked: it refuses to start (journal and key manager disagree), it
 * has no usable authority, or a request is outside what it may sign. Messages name the offending
 * value and never contain key material or tokens.
 */
public class AuthorityException extends SigilException {
    public AuthorityException(String message) {
        super(message);
    }

    public AuthorityException(String message, Throwable cause) {
        super(message, cause);
    }
}
