package dev.sigil.server.drift;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.Agent;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.registration.EntryChanges;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.token.IssuedTokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registration changes reach credentials already issued: run every second, it revokes
 * what was granted to identities that lost their footing.
 *
 * <ul>
 *   <li><b>Entry deleted or changed</b> (the registration revision moved): every identity that no
 *       registration entry issues any more loses its leases, access tokens and JWT-SVIDs (status list),
 *       audited as {@code identity.withdraw} with reason {@code no registration entry}, when it either holds
 *       an active lease granted while it was registered (the lease names the holder's agent) or was issued
 *       by an entry at this server's previous check or start (so an identity holding only JWT-SVIDs or access
 *       tokens is withdrawn too). Identities that were never registered (operator-minted SVIDs) are not
 *       affected. The previous check is this process's memory: an entry deleted while no server ran is
 *       caught only through its leases.</li>
 *   <li><b>Agent banned</b>: at the next run, the leases recorded under that agent are revoked,
 *       and every identity whose entries are all parented to banned agents loses its tokens and gets a
 *       {@code revoke} drift gate, so SVIDs it already holds buy nothing new (it cannot get fresh ones).
 *       Its streams are emptied by the agent itself, which stops when the server refuses it (within
 *       one agent sync interval).</li>
 * </ul>
 *
 * <p>Costs per run: the registration revision and the banned agents (two small reads); when the revision
 * moved, the entry changes since the last pass (the agents' sync feed). What registration issues is kept in
 * memory (entry id → SPIFFE ID, loaded once at start), so the cost does not grow with the number of entries.
 */
public final class RegistrationRevocations {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrationRevocations.class);
    private static final String ACTOR = "sigil-server";

    private final EntryStore entries;
    private final AgentStore agents;
    private final LeaseService leases;
    private final Clock clock;
    private final Duration gateLifetime;
    private final Instant startedAt;
    private final Withdrawals withdrawals;
    private Set<SpiffeId> seenBanned;
    /**
     * What registration issues, kept in step with the entries through their change feed: entry id → SPIFFE
     * ID, and how many entries issue each SPIFFE ID. Loaded once at start; {@code seenRevision} is the
     * revision it reflects.
     */
    private final Map<String, SpiffeId> issuedByEntry = new HashMap<>();
    private final Map<SpiffeId, Integer> issuers = new HashMap<>();
    private long seenRevision;
    private boolean checkedLeases;

    public RegistrationRevocations(EntryStore entries, AgentStore agents, LeaseService leases, IssuedTokens tokens, DriftGates gates,
                                   Datastore datastore, AuditTrail audit, Clock clock, Duration gateLifetime) {
        this.entries = entries;
        this.agents = agents;
        this.leases = leases;
        this.clock = clock;
        this.gateLifetime = gateLifetime;
        this.startedAt = clock.instant();
        this.withdrawals = new Withdrawals(Optional.of(leases), tokens, gates, datastore, audit, clock);
        // the revision first: a change made while the entries are listed is applied again from the feed
        this.seenRevision = entries.currentRevision();
        loadIssued();
    }

    /** One pass; returns how many identities were withdrawn. Safe to call often. */
    public synchronized int tick() {
        int withdrawn = 0;
        Set<SpiffeId> banned = new HashSet<>();
        Set<SpiffeId> bannedBeforeStart = new HashSet<>();
        for (Agent agent : agents.listBanned()) {
            banned.add(agent.spiffeId());
            if (agent.updatedAt().isBefore(startedAt)) {
                bannedBeforeStart.add(agent.spiffeId());
            }
        }
        if (seenBanned == null) {
            // Bans older than this server were answered by the server that saw them; a crash in between
            // is covered by revoking their agents' leases again (idempotent: nothing left, nothing done).
            for (SpiffeId agent : bannedBeforeStart) {
                leases.revoke(LeaseFilter.all().withAgent(agent), "agent " + agent + " banned", ACTOR);
            }
            seenBanned = bannedBeforeStart;
        }
        for (SpiffeId agent : banned) {
            if (!seenBanned.contains(agent)) {
                withdrawn += agentBanned(agent, banned);
            }
        }
        seenBanned = banned;
        // Identities an entry stopped issuing since the last pass (deleted, or moved to another SPIFFE ID), and,
        // at the first pass, every holder of a lease granted through an agent (entries deleted while no
        // server ran): each one no entry issues any more is withdrawn, tokens and JWT-SVIDs included.
        Set<SpiffeId> candidates = new java.util.LinkedHashSet<>(followEntries());
        if (!checkedLeases) {
            candidates.addAll(activeHolders());
            checkedLeases = true;
        }
        for (SpiffeId holder : candidates) {
            if (issuers.getOrDefault(holder, 0) == 0) {
                withdraw(holder, "no registration entry", false);
                withdrawn++;
            }
        }
        return withdrawn;
    }

    private int agentBanned(SpiffeId agent, Set<SpiffeId> banned) {
        leases.revoke(LeaseFilter.all().withAgent(agent), "agent " + agent + " banned", ACTOR);
        int withdrawn = 0;
        Set<SpiffeId> holders = new HashSet<>();
        for (RegistrationEntry entry : entries.list(EntryFilter.all().withParentId(agent), PageRequest.first(PageRequest.MAX_SIZE)).items()) {
            holders.add(entry.spiffeId());
        }
        for (SpiffeId holder : holders) {
            if (issuing(holder).stream().allMatch(entry -> banned.contains(entry.parentId()))) {
                withdraw(holder, "agent " + agent + " banned", true);
                withdrawn++;
            }
        }
        return withdrawn;
    }

    private void withdraw(SpiffeId holder, String reason, boolean gate) {
        Instant now = clock.instant();
        Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        Optional<DriftGates.Gate> newGate = gate ? Optional.of(new DriftGates.Gate(holder, DriftGates.Mode.REVOKE, notBefore,
                "withdraw-" + now.toEpochMilli(), notBefore.plus(gateLifetime))) : Optional.empty();
        Withdrawals.Result result = withdrawals.withdraw(new Withdrawals.Withdrawal(holder, reason, newGate, "identity.withdraw",
                Map.of("reason", reason)));
        LOG.info("withdrew {} ({}): {} token(s) revoked, {} lease(s) marked for revocation", holder, reason,
                result.revokedTokens().size(), result.leasesMarked());
    }

    private void loadIssued() {
        PageRequest page = PageRequest.first(PageRequest.MAX_SIZE);
        while (true) {
            var listed = entries.list(EntryFilter.all(), page);
            listed.items().forEach(entry -> issue(entry.id(), entry.spiffeId()));
            if (listed.nextPageToken().isEmpty() || listed.items().isEmpty()) {
                return;
            }
            page = PageRequest.next(listed.nextPageToken().get(), PageRequest.MAX_SIZE);
        }
    }

    /** Applies the entry changes since the last pass; returns the SPIFFE IDs some entry stopped issuing. */
    private Set<SpiffeId> followEntries() {
        Set<SpiffeId> stopped = new HashSet<>();
        if (entries.currentRevision() == seenRevision) {
            return stopped;
        }
        EntryChanges changes;
        do {
            changes = entries.changesSince(seenRevision, 10_000);
            for (RegistrationEntry entry : changes.changed()) {
                issue(entry.id(), entry.spiffeId()).ifPresent(stopped::add);
            }
            for (String id : changes.deletedIds()) {
                unissue(id).ifPresent(stopped::add);
            }
            seenRevision = changes.throughRevision();
        } while (changes.more());
        return stopped;
    }

    /** Records that entry {@code id} issues {@code spiffeId}; returns the SPIFFE ID it issued before, if another. */
    private Optional<SpiffeId> issue(String id, SpiffeId spiffeId) {
        SpiffeId before = issuedByEntry.put(id, spiffeId);
        if (spiffeId.equals(before)) {
            return Optional.empty();
        }
        issuers.merge(spiffeId, 1, Integer::sum);
        if (before == null) {
            return Optional.empty();
        }
        issuers.computeIfPresent(before, (key, count) -> count > 1 ? count - 1 : null);
        return Optional.of(before);
    }

    private Optional<SpiffeId> unissue(String id) {
        SpiffeId before = issuedByEntry.remove(id);
        if (before != null) {
            issuers.computeIfPresent(before, (key, count) -> count > 1 ? count - 1 : null);
        }
        return Optional.ofNullable(before);
    }

    private List<RegistrationEntry> issuing(SpiffeId holder) {
        return entries.list(EntryFilter.all().withSpiffeId(holder), PageRequest.first(PageRequest.MAX_SIZE)).items();
    }

    private List<SpiffeId> activeHolders() {
        return leases.store().liveHoldersThroughAgents();
    }
}
