package dev.sigil.server.agent;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The agents registry (table {@code agents}, migration V4).
 *
 * <p>Guarantees: every change is one transaction together with its audit record ({@code agent.attest},
 * {@code agent.renew}, {@code agent.ban}, {@code agent.evict}) naming {@code actor}; a change whose
 * record cannot be written does not happen. A banned agent is never re-admitted by an attestation or a
 * renewal; eviction deletes the row (and with it a ban), after which the node must attest again.
 */
public interface AgentStore {

    static AgentStore create(Datastore datastore, AuditTrail audit, Clock clock) {
        return new SqlAgentStore(datastore, audit, clock);
    }

    /** What an attestation established, and the SVID issued for it. */
    record Attestation(SpiffeId spiffeId, String attestorType, List<Selector> selectors, int trustLevel, BigInteger svidSerial,
                       Instant svidExpiresAt) {
        public Attestation {
            Objects.requireNonNull(spiffeId, "spiffeId");
            Objects.requireNonNull(attestorType, "attestorType");
            selectors = List.copyOf(selectors);
            Objects.requireNonNull(svidSerial, "svidSerial");
            Objects.requireNonNull(svidExpiresAt, "svidExpiresAt");
        }
    }

    /** The outcome of recording an attestation. */
    sealed interface Recording {
        record Recorded(Agent agent) implements Recording {}

        /** The agent is banned; nothing changed. */
        record Banned(Agent agent) implements Recording {}
    }

    /** Registers a new agent or re-attests an existing one (new selectors, trust level and SVID) unless it is banned. */
    Recording recordAttestation(Attestation attestation, String actor);

    /** Records the agent's renewed SVID; empty (nothing changed) when the agent is unknown or banned. */
    Optional<Agent> recordRenewal(SpiffeId spiffeId, BigInteger svidSerial, Instant svidExpiresAt, String actor);

    Optional<Agent> find(SpiffeId spiffeId);

    /** Every registered agent, ordered by SPIFFE ID. */
    List<Agent> list();

    /** The banned agents only (checked every second against issued credentials), ordered by SPIFFE ID. */
    List<Agent> listBanned();

    /** Bans the agent; empty when there is no such agent. Banning a banned agent changes nothing. */
    Optional<Agent> ban(SpiffeId spiffeId, String actor);

    /** Deletes the agent (and a ban with it); returns it as it was, empty when there was none. */
    Optional<Agent> evict(SpiffeId spiffeId, String actor);
}
