package dev.sigil.server.governance;

import static dev.sigil.server.governance.Finding.Nhi;
import static dev.sigil.server.governance.Finding.Severity;

import dev.sigil.core.Printable;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.selector.WorkloadTrust;
import dev.sigil.core.time.Durations;
import dev.sigil.server.agent.Agent;
import dev.sigil.server.config.GovernanceSettings;
import dev.sigil.server.credential.Lease;
import dev.sigil.server.policy.RuleView;
import dev.sigil.server.registration.RegistrationEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The identity-side posture checks (NHI1 offboarding, NHI4 authentication, NHI9 reuse, NHI10 human use),
 * each a pure function of one {@link InventoryReader.Snapshot}, the policy's rules and the thresholds:
 * the same data gives the same findings. {@link CredentialChecks} has the credential-side ones.
 */
final class PostureChecks {
    private static final int MAX_LISTED = 20;

    private final InventoryReader.Snapshot snapshot;
    private final GovernanceSettings settings;
    private final List<RuleView> rules;
    private final String serverId;
    private final Map<String, Agent> agents = new HashMap<>();
    private final Set<String> entryIds = new HashSet<>();
    private final Set<String> adminIds = new HashSet<>();
    final List<Finding> findings = new ArrayList<>();
    final List<Posture.NotEvaluated> notEvaluated = new ArrayList<>();

    PostureChecks(InventoryReader.Snapshot snapshot, GovernanceSettings settings, List<RuleView> rules, String serverId) {
        this.snapshot = snapshot;
        this.settings = settings;
        this.rules = rules;
        this.serverId = serverId;
        snapshot.agents().forEach(agent -> agents.put(agent.spiffeId().toString(), agent));
        snapshot.entries().forEach(entry -> {
            entryIds.add(entry.spiffeId().toString());
            if (entry.admin()) {
                adminIds.add(entry.spiffeId().toString());
            }
        });
    }

    void run() {
        ownersUnknown();
        notServed();
        agentsGone();
        joinTokenProduction();
        trustBelowPolicy();
        reuse();
        humanUse();
    }

    /** NHI1: an entry whose owner is not on the configured owner list. */
    private void ownersUnknown() {
        if (settings.owners().isEmpty()) {
            notEvaluated.add(new Posture.NotEvaluated("nhi1.owner_unknown", Nhi.NHI1,
                    "no owner list is configured (governance.owners); owners are not checked against one"));
            return;
        }
        Set<String> known = new HashSet<>(settings.owners());
        Map<String, Set<String>> byOwner = new TreeMap<>();
        for (RegistrationEntry entry : snapshot.entries()) {
            if (!known.contains(entry.owner())) {
                byOwner.computeIfAbsent(entry.owner(), o -> new TreeSet<>()).add(entry.spiffeId().toString());
            }
        }
        byOwner.forEach((owner, ids) -> findings.add(new Finding("nhi1.owner_unknown", Nhi.NHI1, Severity.HIGH,
                "owner '" + Printable.clip(owner) + "' is not a known owner", listed(ids),
                ids.size() + " identit" + (ids.size() == 1 ? "y is" : "ies are") + " owned by '" + Printable.clip(owner)
                        + "', who is not in governance.owners: nobody known is accountable for them",
                "transfer them to a known owner (sigil owner transfer '" + Printable.clip(owner) + "' --to OWNER), or offboard"
                        + " the owner (sigil owner offboard '" + Printable.clip(owner) + "')")));
    }

    /** NHI1: an identity registered before the window that no SVID was issued for during it. */
    private void notServed() {
        Activity activity = snapshot.activity();
        if (!activity.complete()) {
            notEvaluated.add(incomplete("nhi1.not_served", Nhi.NHI1));
            return;
        }
        Set<String> stale = new TreeSet<>();
        for (RegistrationEntry entry : snapshot.entries()) {
            String id = entry.spiffeId().toString();
            if (entry.createdAt().isBefore(activity.since()) && !activity.lastServed().containsKey(id) && !agents.containsKey(id)) {
                stale.add(id);
            }
        }
        for (String id : stale) {
            findings.add(new Finding("nhi1.not_served", Nhi.NHI1, Severity.MEDIUM, "identity not served for "
                    + Durations.format(settings.staleAfter()), List.of(id),
                    "no svid was issued for " + id + " since " + activity.since() + "; its workload may be gone",
                    "delete its entries if it is retired (sigil entry delete), or find the workload and its owner"));
        }
    }

    /** NHI1: an entry whose parent agent is unknown, banned, or not seen for longer than the threshold. */
    private void agentsGone() {
        Instant staleBefore = snapshot.now().minus(settings.staleAfter());
        Map<String, Set<String>> byParent = new TreeMap<>();
        Map<String, String> why = new HashMap<>();
        for (RegistrationEntry entry : snapshot.entries()) {
            String parent = entry.parentId().toString();
            if (parent.equals(serverId) || entryIds.contains(parent)) {
                continue;
            }
            Agent agent = agents.get(parent);
            String reason;
            if (agent == null) {
                reason = "is not a registered agent (evicted, or never attested)";
            } else if (agent.banned()) {
                reason = "is banned";
            } else if (InventoryReader.lastSeen(agent).isBefore(staleBefore)) {
                reason = "was last seen " + InventoryReader.lastSeen(agent) + ", more than " + Durations.format(settings.staleAfter()) + " ago";
            } else {
                continue;
            }
            byParent.computeIfAbsent(parent, p -> new TreeSet<>()).add(entry.spiffeId().toString());
            why.put(parent, reason);
        }
        byParent.forEach((parent, ids) -> findings.add(new Finding("nhi1.agent_gone", Nhi.NHI1,
                agents.containsKey(parent) && !agents.get(parent).banned() ? Severity.MEDIUM : Severity.HIGH,
                "parent agent gone: " + Printable.clip(parent), listed(ids),
                "agent " + Printable.clip(parent) + " " + why.get(parent) + "; " + ids.size() + " identit"
                        + (ids.size() == 1 ? "y names" : "ies name") + " it as parent",
                "delete or re-parent the entries (sigil entry delete / update), or evict the agent (sigil agent evict)")));
    }

    /** NHI4: a production identity issued through a node attested only with a join token. */
    private void joinTokenProduction() {
        for (RegistrationEntry entry : snapshot.entries()) {
            String id = entry.spiffeId().toString();
            Agent agent = agents.get(entry.parentId().toString());
            if (agent == null || !agent.attestorType().equals("join_token") || !production(id)) {
                continue;
            }
            findings.add(new Finding("nhi4.join_token_production", Nhi.NHI4, Severity.HIGH,
                    "production identity on a join-token node", List.of(id, agent.spiffeId().toString()),
                    id + " is issued through agent " + agent.spiffeId() + ", whose node proved itself only with a join token"
                            + " (trust level " + agent.trustLevel() + ")",
                    "attest production nodes with x509pop or a platform attestor, and require min_trust_level 2 in policy"));
        }
    }

    /**
     * NHI4: an allow rule naming an identity asks for a higher trust level than it has: the lower of its
     * node's and its workload attestation's (layered trust), and the finding names which one falls short.
     */
    private void trustBelowPolicy() {
        for (RegistrationEntry entry : snapshot.entries()) {
            String id = entry.spiffeId().toString();
            Agent agent = agents.get(entry.parentId().toString());
            if (agent == null) {
                continue;
            }
            int workload = WorkloadTrust.of(entry.selectors());
            int effective = Math.min(agent.trustLevel(), workload);
            for (RuleView rule : rules) {
                if (rule.allow() && rule.minTrustLevel() > effective && rule.appliesTo(id)) {
                    boolean nodeShort = rule.minTrustLevel() > agent.trustLevel();
                    findings.add(new Finding("nhi4.trust_below_policy", Nhi.NHI4, Severity.MEDIUM,
                            "trust level below what policy asks", List.of(id),
                            "rule '" + rule.name() + "' (line " + rule.line() + ") asks trust level " + rule.minTrustLevel() + " of " + id
                                    + (nodeShort ? ", but its node (agent " + agent.spiffeId() + ", " + agent.attestorType() + ") is at "
                                            + agent.trustLevel()
                                            : ", but its workload attestation (" + WorkloadTrust.strongestTypes(entry.selectors())
                                                    + " selectors) is at " + workload),
                            nodeShort ? "attest the node with stronger evidence, or move the identity to a node that has it"
                                    : "register the identity with selectors of a stronger workload attestor (unix, k8s)"));
                }
            }
        }
    }

    /** NHI9: one SPIFFE ID under many nodes (entry parents, or agents that served it) or many binaries. */
    private void reuse() {
        Map<String, Set<String>> nodes = new TreeMap<>();
        Map<String, Set<String>> binaries = new TreeMap<>();
        for (RegistrationEntry entry : snapshot.entries()) {
            String id = entry.spiffeId().toString();
            nodes.computeIfAbsent(id, i -> new TreeSet<>()).add(entry.parentId().toString());
            for (Selector selector : entry.selectors()) {
                if (selector.type().equals("unix") && (selector.value().startsWith("sha256:") || selector.value().startsWith("path:"))) {
                    binaries.computeIfAbsent(id, i -> new TreeSet<>()).add(selector.value());
                }
            }
        }
        snapshot.activity().servedBy().forEach((id, actors) -> {
            if (entryIds.contains(id)) {
                actors.stream().filter(agents::containsKey).forEach(agent -> nodes.computeIfAbsent(id, i -> new TreeSet<>()).add(agent));
            }
        });
        nodes.forEach((id, parents) -> {
            if (parents.size() > settings.reuseMaxNodes()) {
                findings.add(new Finding("nhi9.many_nodes", Nhi.NHI9, Severity.MEDIUM, "one identity on many nodes", List.of(id),
                        id + " is issued through " + parents.size() + " distinct agents (more than " + settings.reuseMaxNodes() + "): "
                                + Printable.clip(String.join(", ", parents), 400),
                        "give each deployment its own spiffe id (a path segment per node pool or service instance)"));
            }
        });
        binaries.forEach((id, values) -> {
            if (values.size() > settings.reuseMaxBinaries()) {
                findings.add(new Finding("nhi9.many_binaries", Nhi.NHI9, Severity.MEDIUM, "one identity for many binaries", List.of(id),
                        id + " is issued to " + values.size() + " distinct binaries (more than " + settings.reuseMaxBinaries() + ")",
                        "give each program its own spiffe id"));
            }
        });
    }

    /** NHI10: SVIDs minted through the admin API (a local operator or an admin SVID) rather than by an agent. */
    private void humanUse() {
        if (!snapshot.activity().complete()) {
            notEvaluated.add(incomplete("nhi10.admin_minted", Nhi.NHI10));
        }
        new TreeMap<>(snapshot.activity().servedBy()).forEach((id, actors) -> {
            Set<String> humans = new TreeSet<>();
            actors.stream().filter(a -> a.startsWith("local:") || adminIds.contains(a)).forEach(humans::add);
            if (!humans.isEmpty()) {
                findings.add(new Finding("nhi10.admin_minted", Nhi.NHI10, Severity.MEDIUM, "identity minted by a person",
                        List.of(id), "svids for " + id + " were minted through the admin api by "
                        + Printable.clip(String.join(", ", humans), 300) + " since " + snapshot.activity().since(),
                        "let an agent attest the workload instead; keep sigil x509 mint / jwt mint for break-glass use"));
            }
        });
    }

    private boolean production(String id) {
        for (String pattern : settings.productionIds()) {
            try {
                if (RuleView.subjectMatches(pattern, id)) {
                    return true;
                }
            } catch (IllegalArgumentException e) {
                // a pattern the policy syntax refuses matches nothing; the configuration check names it
            }
        }
        return false;
    }

    static Posture.NotEvaluated incomplete(String check, Nhi nhi) {
        return new Posture.NotEvaluated(check, nhi, "the audit window held more records than governance.max_audit_records;"
                + " the newest were not read, so an absence proves nothing");
    }

    static List<String> listed(Set<String> ids) {
        return ids.stream().limit(MAX_LISTED).map(id -> Printable.clip(id, 2048)).toList();
    }
}
