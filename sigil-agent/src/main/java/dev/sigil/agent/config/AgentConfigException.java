package dev.sigil.agent.config;

import dev.sigil.agent.AgentException;

/** The agent configuration is invalid; the message names the file, line, key or variable and what is valid. */
public final class AgentConfigException extends AgentException {
    public AgentConfigException(String message) {
        super(message);
    }

    public AgentConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
