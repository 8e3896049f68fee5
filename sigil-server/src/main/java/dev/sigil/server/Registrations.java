package dev.sigil.server;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.agent.AttestedSubjects;
import dev.sigil.server.agent.attestor.ContinuousAttestors;
import dev.sigil.server.agent.attestor.SingleUseEvidence;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.JoinTokens;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import java.time.Clock;

/**
 * Who may have which identity: registration entries, join tokens, the agents registry, the attestation evidence policy
 * sees, the single-use node evidence (jwt tokens) already accepted, and the continuous node attestors (tpm)
 * whose overdue evidence lowers a node's trust level.
 */
record Registrations(EntryStore entries, JoinTokens joinTokens, AgentStore agents, AttestedSubjects evidence,
                     SingleUseEvidence usedNodeEvidence, ContinuousAttestors continuousAttestors) {
    static Registrations open(Clock clock, Foundation foundation) {
        EntryStore entries = EntryStore.create(foundation.datastore(), foundation.audit(), clock);
        AgentStore agents = AgentStore.create(foundation.datastore(), foundation.audit(), clock);
        ContinuousAttestors continuous = new ContinuousAttestors();
        return new Registrations(entries, JoinTokens.create(foundation.datastore(), foundation.audit(), clock), agents,
                new AttestedSubjects(entries, agents, continuous), SingleUseEvidence.create(foundation.datastore(), clock), continuous);
    }

    /** True when a registration entry for {@code id} is marked admin (the admin API over mutual TLS). */
    boolean isAdmin(SpiffeId id) {
        return entries.list(EntryFilter.all().withSpiffeId(id), PageRequest.first(PageRequest.MAX_SIZE)).items().stream()
                .anyMatch(RegistrationEntry::admin);
    }
}
