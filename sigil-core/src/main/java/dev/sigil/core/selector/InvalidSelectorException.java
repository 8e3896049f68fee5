package dev.sigil.core.selector;

import dev.sigil.core.SigilException;

/** A string that is not a valid selector; the message names the offending part and what is allowed. */
public final class InvalidSelectorException extends SigilException {
    public InvalidSelectorException(String message) {
        super(message);
    }
}
