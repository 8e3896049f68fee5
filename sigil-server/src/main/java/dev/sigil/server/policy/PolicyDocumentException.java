package dev.sigil.server.policy;

import dev.sigil.core.SigilException;

/**
 * A policy document that cannot be loaded: the 1-based line in the YAML text where the problem is and
 * what is wrong. Loading is all or nothing, so a document raising this never takes effect.
 */
public final class PolicyDocumentException extends SigilException {
    private final int line;
    private final String reason;

    /** {@code reason} may quote the document: it is kept to one printable, bounded line. */
    public PolicyDocumentException(int line, String reason) {
        super("line " + line + ": " + dev.sigil.core.Printable.clip(reason, 600));
        this.line = line;
        this.reason = dev.sigil.core.Printable.clip(reason, 600);
    }

    public int line() {
        return line;
    }

    public String reason() {
        return reason;
    }
}
