package dev.sigil.server.governance;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.selector.WorkloadTrust;
import dev.sigil.server.agent.Agent;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.config.GovernanceSettings;
import dev.sigil.server.credential.Lease;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.Page;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.task.Task;
import dev.sigil.server.task.TaskStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the inventory from the stores that own the data (entries, agents, leases, tasks) and the audit
 * trail's window ({@link Activity}); writes nothing. Each call is a fresh read: nothing is cached
 * between reports, so a report is never staler than its own reading.
 */
final class InventoryReader {
    /** At most this many live leases and tasks are read per report. */
    static final int MAX_ROWS = 100_000;

    private final EntryStore entries;
    private final AgentStore agents;
    private final LeaseService leases;
    private final TaskStore tasks;
    private final AuditTrail audit;
    private final Clock clock;

    InventoryReader(EntryStore entries, AgentStore agents, LeaseService leases, TaskStore tasks, AuditTrail audit, Clock clock) {
        this.entries = entries;
        this.agents = agents;
        this.leases = leases;
        this.tasks = tasks;
        this.audit = audit;
        this.clock = clock;
    }

    /** Everything a report is computed from, read once. */
    record Snapshot(Instant now, List<RegistrationEntry> entries, List<Agent> agents, List<Lease> liveLeases, List<Task> activeTasks,
                    Activity activity) {
    }

    Snapshot snapshot(GovernanceSettings settings) {
        Instant now = clock.instant();
        List<RegistrationEntry> all = new ArrayList<>();
        PageRequest page = PageRequest.first(PageRequest.MAX_SIZE);
        while (true) {
            Page<RegistrationEntry> read = entries.list(EntryFilter.all(), page);
            all.addAll(read.items());
            if (read.nextPageToken().isEmpty()) {
                break;
            }
            page = PageRequest.next(read.nextPageToken().get(), PageRequest.MAX_SIZE);
        }
        List<Lease> live = new ArrayList<>();
        for (LeaseState state : List.of(LeaseState.PENDING, LeaseState.ACTIVE, LeaseState.REVOKING)) {
            live.addAll(leases.list(LeaseFilter.all().withState(state), MAX_ROWS));
        }
        live.sort(Comparator.comparing(Lease::issuedAt).reversed());
        List<Task> active = tasks.list(MAX_ROWS).stream().filter(t -> t.state(now) == Task.State.ACTIVE).toList();
        Activity activity = Activity.read(audit, now.minus(settings.staleAfter()), settings.maxAuditRecords());
        return new Snapshot(now, List.copyOf(all), agents.list(), List.copyOf(live), active, activity);
    }

    static Inventory inventory(Snapshot snapshot) {
        Map<String, Agent> agentsById = new HashMap<>();
        snapshot.agents().forEach(agent -> agentsById.put(agent.spiffeId().toString(), agent));
        Map<String, List<Lease>> leasesByHolder = new HashMap<>();
        snapshot.liveLeases().forEach(lease -> leasesByHolder.computeIfAbsent(lease.holder().toString(), h -> new ArrayList<>()).add(lease));
        Map<String, List<Task>> tasksByHolder = new HashMap<>();
        snapshot.activeTasks().forEach(task -> tasksByHolder.computeIfAbsent(task.holder().toString(), h -> new ArrayList<>()).add(task));
        Map<String, Integer> entriesByParent = new HashMap<>();
        snapshot.entries().forEach(entry -> entriesByParent.merge(entry.parentId().toString(), 1, Integer::sum));
        Activity activity = snapshot.activity();

        List<Inventory.Identity> identities = new ArrayList<>();
        for (RegistrationEntry entry : snapshot.entries()) {
            String id = entry.spiffeId().toString();
            Optional<Agent> parent = Optional.ofNullable(agentsById.get(entry.parentId().toString()));
            identities.add(new Inventory.Identity(entry.id(), id, entry.owner(), entry.parentId().toString(),
                    parent.map(agent -> Math.min(agent.trustLevel(), WorkloadTrust.of(entry.selectors()))), parent.map(Agent::attestorType),
                    entry.selectors().stream().map(Selector::toString).toList(), entry.admin(), entry.createdAt(), entry.updatedAt(),
                    entry.x509SvidTtl().toSeconds(), entry.jwtSvidTtl().toSeconds(), Optional.ofNullable(activity.lastServed().get(id)),
                    Optional.ofNullable(activity.lastExchanged().get(id)),
                    leasesByHolder.getOrDefault(id, List.of()).stream().map(lease -> credential(lease, snapshot.now())).toList(),
                    tasksByHolder.getOrDefault(id, List.of()).stream()
                            .map(t -> new Inventory.TaskRow(t.id(), t.owner(), t.purpose(), t.createdAt(), t.expiresAt())).toList(),
                    activity.drifts().getOrDefault(id, 0)));
        }
        List<Inventory.AgentRow> agentRows = snapshot.agents().stream().map(agent -> new Inventory.AgentRow(agent.spiffeId().toString(),
                agent.attestorType(), agent.trustLevel(), agent.selectors().stream().map(Selector::toString).toList(),
                agent.firstAttestedAt(), lastSeen(agent), agent.svidExpiresAt(), agent.banned(),
                entriesByParent.getOrDefault(agent.spiffeId().toString(), 0))).toList();
        return new Inventory(snapshot.now(), activity.since(), activity.complete(), identities, agentRows);
    }

    static Instant lastSeen(Agent agent) {
        return agent.updatedAt().isAfter(agent.lastAttestedAt()) ? agent.updatedAt() : agent.lastAttestedAt();
    }

    private static Inventory.Credential credential(Lease lease, Instant now) {
        return new Inventory.Credential(lease.id().value(), lease.broker(), lease.resource(), lease.state().wireName(), lease.task(),
                lease.issuedAt(), lease.expiresAt(), lease.maxExpiresAt(), seconds(lease.issuedAt(), lease.expiresAt()),
                seconds(lease.issuedAt(), lease.maxExpiresAt()), Math.max(0, seconds(lease.issuedAt(), now)));
    }

    private static long seconds(Instant from, Instant to) {
        return Duration.between(from, to).toSeconds();
    }
}
