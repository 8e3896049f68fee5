package dev.sigil.server.agent;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.selector.WorkloadTrust;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.agent.attestor.ContinuousAttestors;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Attestation evidence for a SPIFFE ID, from the registration entries that issue it and the agents
 * they are parented to. Conservative when several entries could have issued the identity: the trust
 * level is the lowest of their (unbanned) agents', and the selectors are only those every candidate
 * shares (each candidate contributes its entry's workload selectors plus its agent's node selectors),
 * so an identity reachable from a weak node is never credited with a strong node's evidence. A node
 * attested by a {@link ContinuousAttestors continuous attestor} (tpm) whose evidence is overdue counts
 * with trust level 0.
 *
 * <p>Layered trust: each candidate's level is the lower of its agent's node attestation level and its
 * entry's workload attestation level ({@link WorkloadTrust#of}: the level of the workload attestor whose
 * selectors the entry requires), so a workload never rates above the node it runs on nor above the
 * evidence that picked it out on that node.
 */
public final class AttestedSubjects implements SubjectEvidence {
    private final EntryStore entries;
    private final AgentStore agents;
    private final ContinuousAttestors continuous;

    public AttestedSubjects(EntryStore entries, AgentStore agents) {
        this(entries, agents, new ContinuousAttestors());
    }

    public AttestedSubjects(EntryStore entries, AgentStore agents, ContinuousAttestors continuous) {
        this.entries = entries;
        this.agents = agents;
        this.continuous = continuous;
    }

    @Override
    public Evidence of(SpiffeId subject) {
        List<RegistrationEntry> issuing = entries.list(EntryFilter.all().withSpiffeId(subject), PageRequest.first(PageRequest.MAX_SIZE))
                .items();
        Set<Selector> shared = null;
        int level = Integer.MAX_VALUE;
        Instant oldest = null;
        List<String> basis = new java.util.ArrayList<>();
        for (RegistrationEntry entry : issuing) {
            Optional<Agent> parent = agents.find(entry.parentId()).filter(agent -> !agent.banned());
            if (parent.isEmpty()) {
                return Evidence.none();
            }
            Set<Selector> candidate = new HashSet<>(entry.selectors());
            candidate.addAll(parent.get().selectors());
            if (shared == null) {
                shared = candidate;
            } else {
                shared.retainAll(candidate);
            }
            Agent parentAgent = parent.get();
            int node = continuous.trustLevel(parentAgent.spiffeId(), parentAgent.attestorType(), parentAgent.trustLevel());
            int workload = WorkloadTrust.of(entry.selectors());
            level = Math.min(level, Math.min(node, workload));
            basis.add("node " + parentAgent.spiffeId() + " (" + parentAgent.attestorType() + ") level " + node + ", workload ("
                    + WorkloadTrust.strongestTypes(entry.selectors()) + " selectors) level " + workload);
            Instant attested = parent.get().lastAttestedAt();
            oldest = oldest == null || attested.isBefore(oldest) ? attested : oldest;
        }
        if (shared == null) {
            return Evidence.none();
        }
        return new Evidence(shared, level, Optional.ofNullable(oldest), "trust level " + level + " is the lowest of "
                + String.join("; ", basis));
    }
}
