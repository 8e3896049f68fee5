package dev.sigil.server.governance;

import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.config.GovernanceSettings;
import dev.sigil.server.credential.Lease;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.drift.DriftGates;
import dev.sigil.server.drift.Withdrawals;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.Page;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.task.Task;
import dev.sigil.server.task.TaskException;
import dev.sigil.server.task.TaskStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Moving an owner's identities to another owner, and taking everything away from an owner who leaves.
 *
 * <p>Guarantees: a dry run reads only and writes nothing, not even an audit record; it answers with
 * exactly what the real run would act on at that moment. A real run names the admin as the actor of
 * every record it causes: {@code entry.update} per transferred entry and one {@code owner.transfer};
 * {@code task.end} per ended task, {@code entry.delete} per deleted entry (with its content, so it can be
 * restored), {@code identity.withdraw} per withdrawn SPIFFE ID (reason naming the owner and the admin)
 * and one {@code owner.offboard} with the totals. A SPIFFE ID that an entry of another owner also issues
 * is not withdrawn (that owner's workloads still hold it); it is listed as shared.
 */
final class Offboarding {
    private static final int MAX_DETAIL = 1_800;

    private final EntryStore entries;
    private final LeaseService leases;
    private final TaskStore tasks;
    private final Withdrawals withdrawals;
    private final AuditTrail audit;
    private final GovernanceSettings settings;
    private final Duration gateLifetime;
    private final Clock clock;

    Offboarding(EntryStore entries, LeaseService leases, TaskStore tasks, Withdrawals withdrawals, AuditTrail audit,
                GovernanceSettings settings, Duration gateLifetime, Clock clock) {
        this.entries = entries;
        this.leases = leases;
        this.tasks = tasks;
        this.withdrawals = withdrawals;
        this.audit = audit;
        this.settings = settings;
        this.gateLifetime = gateLifetime;
        this.clock = clock;
    }

    /** What a transfer moved (or would move): the entries' ids. */
    record Transfer(String owner, String to, boolean dryRun, List<String> entries) {
    }

    /**
     * What an offboarding revoked (or would revoke).
     *
     * @param identities        SPIFFE IDs withdrawn: tokens revoked, JWT-SVIDs marked, leases revoked, a gate set
     * @param sharedIdentities  SPIFFE IDs of the owner's entries that another owner's entries also issue; kept
     * @param leases            live leases of the withdrawn identities, and of the ended tasks
     * @param tasks             active tasks owned by the owner or held by a withdrawn identity, ended
     * @param revokedTokens     access tokens revoked (0 in a dry run)
     */
    record Offboard(String owner, boolean dryRun, List<String> entries, List<String> identities, List<String> sharedIdentities,
                    List<String> leases, List<String> tasks, int revokedTokens) {
    }

    Transfer transfer(String owner, String to, boolean dryRun, String actor) {
        requireOwner(owner, "owner");
        requireOwner(to, "to");
        if (!settings.owners().isEmpty() && !settings.owners().contains(to)) {
            throw new IllegalArgumentException("owner '" + Printable.clip(to) + "' is not a known owner; known owners (governance.owners): "
                    + Printable.clip(String.join(", ", settings.owners()), 400));
        }
        if (owner.equals(to)) {
            throw new IllegalArgumentException("owner and to are both '" + Printable.clip(to) + "'; name a different owner to transfer to");
        }
        List<RegistrationEntry> owned = owned(owner);
        List<String> ids = owned.stream().map(RegistrationEntry::id).toList();
        if (dryRun || owned.isEmpty()) {
            return new Transfer(owner, to, dryRun, ids);
        }
        for (RegistrationEntry entry : owned) {
            entries.update(entry.id(), entry.revision(), entry.draft().withOwner(to), actor);
        }
        Map<String, String> details = new LinkedHashMap<>();
        details.put("from", Printable.clip(owner, 256));
        details.put("to", Printable.clip(to, 256));
        details.put("entries", Integer.toString(ids.size()));
        details.put("entry_ids", Printable.clip(String.join(" ", ids), MAX_DETAIL));
        audit.append(AuditEvent.success(actor, "owner.transfer", Printable.clip(owner, 256), details));
        return new Transfer(owner, to, false, ids);
    }

    Offboard offboard(String owner, boolean dryRun, String actor) {
        requireOwner(owner, "owner");
        Instant now = clock.instant();
        List<RegistrationEntry> owned = owned(owner);
        Set<String> identities = new TreeSet<>();
        Set<String> shared = new TreeSet<>();
        for (RegistrationEntry entry : owned) {
            SpiffeId id = entry.spiffeId();
            boolean others = list(EntryFilter.all().withSpiffeId(id)).stream().anyMatch(e -> !e.owner().equals(owner));
            (others ? shared : identities).add(id.toString());
        }
        List<Task> ending = tasks.list(InventoryReader.MAX_ROWS).stream()
                .filter(t -> t.state(now) == Task.State.ACTIVE)
                .filter(t -> t.owner().equals(owner) || identities.contains(t.holder().toString())).toList();
        Set<String> leaseIds = new TreeSet<>();
        for (String id : identities) {
            liveLeases(LeaseFilter.all().withHolder(SpiffeId.parse(id))).forEach(l -> leaseIds.add(l.id().value()));
        }
        for (Task task : ending) {
            liveLeases(LeaseFilter.all().withTask(task.id())).forEach(l -> leaseIds.add(l.id().value()));
        }
        List<String> entryIds = owned.stream().map(RegistrationEntry::id).toList();
        List<String> taskIds = ending.stream().map(Task::id).toList();
        if (dryRun) {
            return new Offboard(owner, true, entryIds, List.copyOf(identities), List.copyOf(shared), List.copyOf(leaseIds), taskIds, 0);
        }

        for (Task task : ending) {
            try {
                tasks.end(task.id(), actor);
            } catch (TaskException e) {
                // ended or expired meanwhile: what it granted is revoked by that end
            }
        }
        for (RegistrationEntry entry : owned) {
            try {
                entries.delete(entry.id(), actor);
            } catch (dev.sigil.server.registration.RegistrationException e) {
                if (e.reason() != dev.sigil.server.registration.RegistrationException.Reason.NOT_FOUND) {
                    throw e;
                }
            }
        }
        String reason = "owner " + Printable.clip(owner, 256) + " offboarded by " + actor;
        int revokedTokens = 0;
        for (String id : identities) {
            Instant at = clock.instant();
            Instant notBefore = at.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            DriftGates.Gate gate = new DriftGates.Gate(SpiffeId.parse(id), DriftGates.Mode.REVOKE, notBefore,
                    "offboard-" + at.toEpochMilli(), notBefore.plus(gateLifetime));
            revokedTokens += withdrawals.withdraw(new Withdrawals.Withdrawal(SpiffeId.parse(id), reason, Optional.of(gate),
                    "identity.withdraw", Map.of("reason", reason))).revokedTokens().size();
        }
        Map<String, String> details = new LinkedHashMap<>();
        details.put("entries", Integer.toString(entryIds.size()));
        details.put("entry_ids", Printable.clip(String.join(" ", entryIds), MAX_DETAIL));
        details.put("identities", Printable.clip(String.join(" ", identities), MAX_DETAIL));
        details.put("shared_identities", Printable.clip(String.join(" ", shared), MAX_DETAIL));
        details.put("tasks", Printable.clip(String.join(" ", taskIds), MAX_DETAIL));
        details.put("leases", Integer.toString(leaseIds.size()));
        details.put("revoked_tokens", Integer.toString(revokedTokens));
        audit.append(AuditEvent.success(actor, "owner.offboard", Printable.clip(owner, 256), details));
        return new Offboard(owner, false, entryIds, List.copyOf(identities), List.copyOf(shared), List.copyOf(leaseIds), taskIds,
                revokedTokens);
    }

    private List<Lease> liveLeases(LeaseFilter filter) {
        List<Lease> live = new ArrayList<>();
        for (LeaseState state : List.of(LeaseState.PENDING, LeaseState.ACTIVE)) {
            live.addAll(leases.list(filter.withState(state), InventoryReader.MAX_ROWS));
        }
        return live;
    }

    private List<RegistrationEntry> owned(String owner) {
        return list(EntryFilter.all().withOwner(owner));
    }

    private List<RegistrationEntry> list(EntryFilter filter) {
        List<RegistrationEntry> all = new ArrayList<>();
        PageRequest page = PageRequest.first(PageRequest.MAX_SIZE);
        while (true) {
            Page<RegistrationEntry> read = entries.list(filter, page);
            all.addAll(read.items());
            if (read.nextPageToken().isEmpty()) {
                return all;
            }
            page = PageRequest.next(read.nextPageToken().get(), PageRequest.MAX_SIZE);
        }
    }

    private static void requireOwner(String owner, String field) {
        if (owner == null || owner.isBlank()) {
            throw new IllegalArgumentException("field '" + field + "' is missing or blank; name the team or person, as entries' owner field does");
        }
        if (owner.length() > dev.sigil.server.registration.EntryDraft.MAX_OWNER_LENGTH) {
            throw new IllegalArgumentException("field '" + field + "' is " + owner.length() + " characters long; owners have at most "
                    + dev.sigil.server.registration.EntryDraft.MAX_OWNER_LENGTH);
        }
    }
}
