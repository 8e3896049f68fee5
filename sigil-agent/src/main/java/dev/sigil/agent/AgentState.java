package dev.sigil.agent;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;

/** Where the agent is in its life. */
public sealed interface AgentState {
    /** Not attested yet. */
    record Starting() implements AgentState {
    }

    /** Attested; holds an agent SVID valid until {@code notAfter}. */
    record Running(SpiffeId agentId, Instant notAfter) implements AgentState {
    }

    /** Stopped for good; {@code reason} tells the operator what to do. Workloads keep no new identities. */
    record Stopped(String reason) implements AgentState {
    }
}
