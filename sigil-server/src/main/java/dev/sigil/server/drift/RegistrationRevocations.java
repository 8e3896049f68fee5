package dev.sigil.server.drift;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.Agent;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.token.IssuedTokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
 * <p>Costs per run: the registration revision and the banned agents (two small reads); only when the
 * revision moved, one query for the distinct holders of active leases and a listing of the entries'
 * SPIFFE IDs.
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
    private long seenRevision = -1;
    private Set<SpiffeId> seenBanned;
    /** The SPIFFE IDs registration entries issued at the last check (from start-up on). */
    private Set<SpiffeId> seenIssued;

    public RegistrationRevocations(EntryStore entries, AgentStore agents, LeaseService leases, IssuedTokens tokens, DriftGates gates,
                                   Datastore datastore, AuditTrail audit, Clock clock, Duration gateLifetime) {
        this.entries = entries;
        this.agents = agents;
        this.leases = leases;
        this.clock = clock;
        this.gateLifetime = gateLifetime;
        this.startedAt = clock.instant();
        this.withdrawals = new Withdrawals(Optional.of(leases), tokens, gates, datastore, audit, clock);
        this.seenIssued = issuedIds();
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
        long revision = entries.currentRevision();
        if (revision != seenRevision) {
            seenRevision = revision;
            Set<SpiffeId> issuedNow = issuedIds();
            // Holders of live leases granted through an agent, and every identity an entry issued at the last
            // check: one that holds only JWT-SVIDs (status list) or access tokens is withdrawn too.
            Set<SpiffeId> candidates = new java.util.LinkedHashSet<>(activeHolders());
            candidates.addAll(seenIssued);
            seenIssued = issuedNow;
            for (SpiffeId holder : candidates) {
                if (!issuedNow.contains(holder)) {
                    withdraw(holder, "no registration entry", false);
                    withdrawn++;
                }
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

    /** Every SPIFFE ID some registration entry issues now. */
    private Set<SpiffeId> issuedIds() {
        Set<SpiffeId> ids = new HashSet<>();
        PageRequest page = PageRequest.first(PageRequest.MAX_SIZE);
        while (true) {
            var listed = entries.list(EntryFilter.all(), page);
            listed.items().forEach(entry -> ids.add(entry.spiffeId()));
            if (listed.nextPageToken().isEmpty() || listed.items().isEmpty()) {
                return ids;
            }
            page = PageRequest.next(listed.nextPageToken().get(), PageRequest.MAX_SIZE);
        }
    }

    private List<RegistrationEntry> issuing(SpiffeId holder) {
        return entries.list(EntryFilter.all().withSpiffeId(holder), PageRequest.first(PageRequest.MAX_SIZE)).items();
    }

    private List<SpiffeId> activeHolders() {
        return leases.store().liveHoldersThroughAgents();
    }
}
