package dev.sigil.server.governance;

import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.config.GovernanceSettings;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.drift.Withdrawals;
import dev.sigil.server.policy.RuleView;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.task.TaskStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Governance over Sigil's own data: the inventory of identities and agents, the posture report mapped to
 * the OWASP NHI Top 10, and owners' transfer and offboarding (docs/governance.md). Reports read only;
 * they are computed from the stores and the audit trail at the moment of asking, and add nothing to the
 * paths that serve SVIDs or exchange tokens.
 */
public final class Governance {

    /** The policy in force, as governance reads it. */
    public interface PolicyView {
        List<RuleView> rules();

        /** Since when each rule has been in force without a break (see {@code PolicyStore.rulesInForceSince}). */
        Map<String, Instant> rulesInForceSince();
    }

    /** What governance reads and acts through, wired by the composition root. */
    public record Dependencies(EntryStore entries, AgentStore agents, LeaseService leases, TaskStore tasks, AuditTrail audit,
                               PolicyView policy, Withdrawals withdrawals, GovernanceSettings settings, String trustDomain,
                               String serverId, Duration gateLifetime, Clock clock) {
        public Dependencies {
            Objects.requireNonNull(entries, "entries");
            Objects.requireNonNull(agents, "agents");
            Objects.requireNonNull(leases, "leases");
            Objects.requireNonNull(tasks, "tasks");
            Objects.requireNonNull(audit, "audit");
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(withdrawals, "withdrawals");
            Objects.requireNonNull(settings, "settings");
            Objects.requireNonNull(trustDomain, "trustDomain");
            Objects.requireNonNull(serverId, "serverId");
            Objects.requireNonNull(gateLifetime, "gateLifetime");
            Objects.requireNonNull(clock, "clock");
        }
    }

    private final Dependencies deps;
    private final InventoryReader reader;
    private final Offboarding offboarding;

    public Governance(Dependencies deps) {
        this.deps = deps;
        this.reader = new InventoryReader(deps.entries(), deps.agents(), deps.leases(), deps.tasks(), deps.audit(), deps.clock());
        this.offboarding = new Offboarding(deps.entries(), deps.leases(), deps.tasks(), deps.withdrawals(), deps.audit(),
                deps.settings(), deps.gateLifetime(), deps.clock());
    }

    public Inventory inventory() {
        return InventoryReader.inventory(reader.snapshot(deps.settings()));
    }

    public Posture posture() {
        InventoryReader.Snapshot snapshot = reader.snapshot(deps.settings());
        List<RuleView> rules = deps.policy().rules();
        PostureChecks identities = new PostureChecks(snapshot, deps.settings(), rules, deps.serverId());
        identities.run();
        CredentialChecks credentials = new CredentialChecks(snapshot, deps.settings(), rules, deps.policy().rulesInForceSince(),
                deps.trustDomain());
        credentials.run();
        List<Finding> findings = new ArrayList<>(identities.findings);
        findings.addAll(credentials.findings);
        findings.sort(Comparator.comparing(Finding::severity).thenComparing(f -> f.nhi().ordinal()).thenComparing(Finding::check)
                .thenComparing(f -> String.join(" ", f.identities())));
        List<Posture.NotEvaluated> notEvaluated = new ArrayList<>(identities.notEvaluated);
        notEvaluated.addAll(credentials.notEvaluated);
        notEvaluated.sort(Comparator.comparing(n -> n.nhi().ordinal()));
        return new Posture(snapshot.now(), snapshot.activity().since(), snapshot.activity().complete(), deps.settings().describe(),
                Posture.summarize(findings), findings, notEvaluated);
    }

    Offboarding.Transfer transfer(String owner, String to, boolean dryRun, String actor) {
        return offboarding.transfer(owner, to, dryRun, actor);
    }

    Offboarding.Offboard offboard(String owner, boolean dryRun, String actor) {
        return offboarding.offboard(owner, dryRun, actor);
    }
}
