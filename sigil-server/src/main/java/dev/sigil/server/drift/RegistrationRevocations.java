package dev.sigil.server.drift;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.Agent;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.token.IssuedTokens;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registration changes reach credentials already issued: run every second, it revokes
 * what was granted to identities that lost their footing.
 *
 * <ul>
 *   <li><b>Entry deleted or changed</b> (the registration revision moved): every holder of an active
 *       lease granted while it was registered (the lease names the holder's agent) whose SPIFFE ID no
 *       registration entry issues any more loses its leases, access tokens and JWT-SVIDs (status list),
 *       audited as {@code identity.withdraw} with reason {@code no registration entry}. Identities that
 *       were never registered (operator-minted SVIDs) are not affected.</li>
 *   <li><b>Agent banned</b>: at the next run, the leases recorded under that agent are revoked,
 *       and every identity whose entries are all parented to banned agents loses its tokens and gets a
 *       {@code revoke} drift gate, so SVIDs it already holds buy nothing new (it cannot get fresh ones).
 *       Its streams are emptied by the agent itself, which stops when the server refuses it (within
 *       one agent sync interval).</li>
 * </ul>
 *
 * <p>Costs per run: the registration revision and the banned agents (two small reads); one query for
 * the distinct holders of active leases only when the revision moved.
 */
public final class RegistrationRevocations {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrationRevocations.class);
    private static final String ACTOR = "sigil-server";

    private final EntryStore entries;
    private final AgentStore agents;
    private final LeaseService leases;
    private final IssuedTokens tokens;
    private final DriftGates gates;
    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private final Duration gateLifetime;
    private final Instant startedAt;
    private long seenRevision = -1;
    private Set<SpiffeId> seenBanned;

    public RegistrationRevocations(EntryStore entries, AgentStore agents, LeaseService leases, IssuedTokens tokens, DriftGates gates,
                                   Datastore datastore, AuditTrail audit, Clock clock, Duration gateLifetime) {
        this.entries = entries;
        this.agents = agents;
        this.leases = leases;
        this.tokens = tokens;
        this.gates = gates;
        this.datastore = datastore;
        this.audit = audit;
        this.clock = clock;
        this.gateLifetime = gateLifetime;
        this.startedAt = clock.instant();
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
            for (SpiffeId holder : activeHolders()) {
                if (issuing(holder).isEmpty()) {
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
        Map<String, String> details = new LinkedHashMap<>();
        details.put("reason", reason);
        String id = "withdraw-" + now.toEpochMilli();
        Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        DriftGates.Gate newGate = new DriftGates.Gate(holder, DriftGates.Mode.REVOKE, notBefore, id, notBefore.plus(gateLifetime));
        datastore.inTransaction(connection -> {
            List<String> jtis = tokens.revokeForHolder(connection, holder.toString(), now);
            details.put("revoked_tokens", Integer.toString(jtis.size()));
            if (gate) {
                DriftGates.set(connection, newGate);
                details.put("gate", id);
            }
            audit.append(connection, AuditEvent.success(ACTOR, "identity.withdraw", holder.toString(), details));
            return null;
        });
        if (gate) {
            gates.remember(newGate);
        }
        var result = leases.revoke(LeaseFilter.all().withHolder(holder), reason, ACTOR);
        LOG.info("withdrew {} ({}): {} lease(s) marked for revocation", holder, reason, result.requested());
    }

    private List<RegistrationEntry> issuing(SpiffeId holder) {
        return entries.list(EntryFilter.all().withSpiffeId(holder), PageRequest.first(PageRequest.MAX_SIZE)).items();
    }

    private List<SpiffeId> activeHolders() {
        return datastore.read(connection -> {
            List<SpiffeId> holders = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT DISTINCT holder FROM leases WHERE state IN ('pending', 'active') AND agent IS NOT NULL");
                 ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    holders.add(SpiffeId.parse(rows.getString(1)));
                }
            }
            return holders;
        });
    }
}
