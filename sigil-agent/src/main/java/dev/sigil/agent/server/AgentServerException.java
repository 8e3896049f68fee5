package dev.sigil.agent.server;

import dev.sigil.agent.AgentException;

/**
 * A call to the server failed. {@link #denied()} is true when the server refused the agent itself
 * (PERMISSION_DENIED or UNAUTHENTICATED: banned, evicted, unknown, or an expired SVID); the agent then
 * has to attest again rather than retry.
 */
public final class AgentServerException extends AgentException {
    private final boolean denied;

    public AgentServerException(String message, boolean denied, Throwable cause) {
        super(message, cause);
        this.denied = denied;
    }

    public boolean denied() {
        return denied;
    }
}
