package dev.sigil.server.agent.attestor;

import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The configured {@link ContinuousAttestor}s by type, so the evidence policy sees can lower a node's
 * trust level when its continuous evidence is overdue. Thread-safe; filled while the server starts.
 */
public final class ContinuousAttestors {
    private final Map<String, ContinuousAttestor> byType = new ConcurrentHashMap<>();

    public void add(ContinuousAttestor attestor) {
        byType.put(attestor.type(), attestor);
    }

    /** The level policy should see for an agent attested by {@code attestorType} at {@code attested}. */
    public int trustLevel(SpiffeId agent, String attestorType, int attested) {
        ContinuousAttestor attestor = byType.get(attestorType);
        return attestor == null ? attested : attestor.trustLevel(agent, attested);
    }

    /** When an agent attested by {@code attestorType} last proved its state; empty for attestors without continuous evidence. */
    public java.util.Optional<java.time.Instant> lastEvidenceAt(SpiffeId agent, String attestorType) {
        ContinuousAttestor attestor = byType.get(attestorType);
        return attestor == null ? java.util.Optional.empty() : attestor.lastEvidenceAt(agent);
    }
}
