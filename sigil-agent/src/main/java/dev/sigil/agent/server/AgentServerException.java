package dev.sigil.agent.server;

import dev.sigil.agent.AgentException;

/**
 * A call to the server failed. {@link #denied()} is true when the server refused the agent itself
 * (PERMISSION_DENIED or UNAUTHENTICATED: banned, evicted, unknown, or an expired SVID); the agent then
 * has to attest again rather than retry. {@link #retryable()} is true when the failure is transient
 * (the server is unreachable or overloaded, or the call timed out) and the same call may succeed later.
 */
public final class AgentServerException extends AgentException {
    private final boolean denied;
    private final boolean retryable;

    public AgentServerException(String message, boolean denied, Throwable cause) {
        this(message, denied, false, cause);
    }

    public AgentServerException(String message, boolean denied, boolean retryable, Throwable cause) {
        super(message, cause);
        this.denied = denied;
        this.retryable = retryable && !denied;
    }

    /** The server could not be reached or answered with a transient failure: the same call may succeed later. */
    public boolean retryable() {
        return retryable;
    }

    public boolean denied() {
        return denied;
    }
}
