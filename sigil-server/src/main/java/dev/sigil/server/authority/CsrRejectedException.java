package dev.sigil.server.authority;

/**
 * A certificate signing request was refused: it does not parse, its proof-of-possession signature does
 * not verify, or its key or signature algorithm is not supported. A client error, never a server fault.
 */
public final class CsrRejectedException extends AuthorityException {
    public CsrRejectedException(String message) {
        super(message);
    }

    public CsrRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
