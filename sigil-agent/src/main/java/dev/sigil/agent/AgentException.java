package dev.sigil.agent;

import dev.sigil.core.SigilException;

/** Base of every exception the agent throws on purpose. Messages never contain secret material. */
public class AgentException extends SigilException {
    public AgentException(String message) {
        super(message);
    }

    public AgentException(String message, Throwable cause) {
        super(message, cause);
    }
}
