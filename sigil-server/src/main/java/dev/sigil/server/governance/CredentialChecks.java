package dev.sigil.server.governance;

import static dev.sigil.server.governance.Finding.Nhi;
import static dev.sigil.server.governance.Finding.Severity;

import dev.sigil.core.Printable;
import dev.sigil.core.time.Durations;
import dev.sigil.server.config.GovernanceSettings;
import dev.sigil.server.credential.Lease;
import dev.sigil.server.policy.RuleView;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.task.Task;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The credential- and policy-side posture checks (NHI2 leaks, NHI3 foreign grants, NHI5 unused grants,
 * NHI7 long-lived credentials, NHI8 environments), pure functions of one snapshot like
 * {@link PostureChecks}.
 */
final class CredentialChecks {
    private final InventoryReader.Snapshot snapshot;
    private final GovernanceSettings settings;
    private final List<RuleView> rules;
    private final Map<String, Instant> rulesInForceSince;
    private final String trustDomain;
    final List<Finding> findings = new ArrayList<>();
    final List<Posture.NotEvaluated> notEvaluated = new ArrayList<>();

    CredentialChecks(InventoryReader.Snapshot snapshot, GovernanceSettings settings, List<RuleView> rules,
                     Map<String, Instant> rulesInForceSince, String trustDomain) {
        this.snapshot = snapshot;
        this.settings = settings;
        this.rules = rules;
        this.rulesInForceSince = rulesInForceSince;
        this.trustDomain = trustDomain;
    }

    void run() {
        leaks();
        foreignGrants();
        unusedRules();
        unusedTaskAllowances();
        longLived();
        environments();
    }

    /** NHI2: every leak reported in the window, with what it revoked. */
    private void leaks() {
        for (Activity.Leak leak : snapshot.activity().leaks()) {
            List<String> holders = leak.holders().stream().map(h -> Printable.clip(h, 2048)).toList();
            findings.add(new Finding("nhi2.leak_reported", Nhi.NHI2, holders.isEmpty() ? Severity.MEDIUM : Severity.HIGH,
                    "leaked credential reported", holders,
                    "reported by " + Printable.clip(leak.reportedBy()) + " at " + leak.at() + " (audit record " + leak.seq() + "): "
                            + (leak.leases().isEmpty() ? "no lease matched" : "revoked lease(s) "
                            + Printable.clip(String.join(", ", leak.leases()), 300))
                            + (leak.tokenRevoked() ? "; an access token was revoked" : "")
                            + (holders.isEmpty() ? "; the value matched nothing Sigil issued" : ""),
                    "find where it leaked from and remove it there; if the holder itself is compromised, ban it"
                            + " (sigil leak report --ban) so it gets no new identity"));
        }
    }

    /** NHI3: allow rules granting a subject of another trust domain broad actions or resources. */
    private void foreignGrants() {
        for (RuleView rule : rules) {
            if (rule.allow() && !rule.trustDomain().equals(trustDomain) && rule.broad()) {
                findings.add(new Finding("nhi3.foreign_broad_grant", Nhi.NHI3, Severity.HIGH, "broad grant to another trust domain",
                        List.of(rule.subject()), "rule '" + rule.name() + "' (line " + rule.line() + ") allows subjects of trust domain "
                        + rule.trustDomain() + " actions " + rule.actions() + " on resources " + rule.resources(),
                        "name the exact actions and resources the federated workload needs"));
            }
        }
    }

    /** NHI5: allow rules in force for the whole window that allowed nothing in it. */
    private void unusedRules() {
        Activity activity = snapshot.activity();
        if (!activity.complete()) {
            notEvaluated.add(PostureChecks.incomplete("nhi5.rule_unused", Nhi.NHI5));
            return;
        }
        for (RuleView rule : rules) {
            Instant since = rulesInForceSince.get(rule.name());
            if (!rule.allow() || since == null || since.isAfter(activity.since()) || activity.usedRules().contains(rule.name())) {
                continue;
            }
            Set<String> subjects = new TreeSet<>();
            for (RegistrationEntry entry : snapshot.entries()) {
                if (rule.appliesTo(entry.spiffeId().toString())) {
                    subjects.add(entry.spiffeId().toString());
                }
            }
            findings.add(new Finding("nhi5.rule_unused", Nhi.NHI5, Severity.LOW, "policy grant never used",
                    subjects.isEmpty() ? List.of(rule.subject()) : PostureChecks.listed(subjects),
                    "rule '" + rule.name() + "' (line " + rule.line() + ") has been in force since " + since + " and allowed nothing in the last "
                            + Durations.format(settings.staleAfter()),
                    "remove the rule, or narrow it to what is used"));
        }
    }

    /** NHI5: active tasks older than the threshold with allowed resources nothing was granted on. */
    private void unusedTaskAllowances() {
        Activity activity = snapshot.activity();
        if (!activity.complete()) {
            notEvaluated.add(PostureChecks.incomplete("nhi5.task_allowance_unused", Nhi.NHI5));
            return;
        }
        for (Task task : snapshot.activeTasks()) {
            if (task.createdAt().isAfter(activity.since())) {
                continue;
            }
            Set<String> used = activity.usedTaskResources().getOrDefault(task.id(), Set.of());
            List<String> unused = task.allowed().stream().filter(p -> !used.contains(p.resource())).map(Task.Permission::toString).toList();
            if (!unused.isEmpty()) {
                findings.add(new Finding("nhi5.task_allowance_unused", Nhi.NHI5, Severity.LOW, "task allowance never used",
                        List.of(task.holder().toString()), "task " + task.id() + " (" + Printable.clip(task.purpose()) + ") allows "
                        + Printable.clip(String.join(", ", unused), 400) + ", unused in the last " + Durations.format(settings.staleAfter()),
                        "end the task (sigil task end " + task.id() + ") and declare only what the work needs"));
            }
        }
    }

    /** NHI7: live leases and entries whose lifetimes exceed the thresholds; renewed leases near their maximum. */
    private void longLived() {
        int headroom = settings.renewalHeadroomPercent();
        for (Lease lease : snapshot.liveLeases()) {
            Duration max = Duration.between(lease.issuedAt(), lease.maxExpiresAt());
            String holder = lease.holder().toString();
            if (max.compareTo(settings.maxCredentialTtl()) > 0) {
                findings.add(new Finding("nhi7.long_lived_credential", Nhi.NHI7, Severity.MEDIUM, "long-lived credential", List.of(holder),
                        "lease " + lease.id().value() + " (" + lease.broker() + ", " + Printable.clip(lease.resource()) + ") may live "
                                + Durations.format(max) + ", above " + Durations.format(settings.maxCredentialTtl()),
                        "lower the broker's max_ttl or the policy's max_ttl obligation for this resource"));
            }
            Duration left = Duration.between(lease.expiresAt(), lease.maxExpiresAt());
            if (snapshot.activity().renewedLeases().contains(lease.id().value()) && !max.isZero()
                    && left.toMillis() * 100 <= max.toMillis() * headroom) {
                findings.add(new Finding("nhi7.renewed_to_max", Nhi.NHI7, Severity.LOW, "credential renewed to its maximum", List.of(holder),
                        "lease " + lease.id().value() + " (" + lease.broker() + ") was renewed until " + lease.expiresAt() + ", within "
                                + headroom + "% of its maximum " + lease.maxExpiresAt(),
                        "have the workload request a fresh credential instead of renewing one for its whole maximum"));
            }
        }
        for (RegistrationEntry entry : snapshot.entries()) {
            Duration longest = entry.x509SvidTtl().compareTo(entry.jwtSvidTtl()) >= 0 ? entry.x509SvidTtl() : entry.jwtSvidTtl();
            if (longest.compareTo(settings.maxSvidTtl()) > 0) {
                findings.add(new Finding("nhi7.long_lived_svid", Nhi.NHI7, Severity.MEDIUM, "long-lived svid",
                        List.of(entry.spiffeId().toString()), "entry " + entry.id() + " issues svids valid for " + Durations.format(longest)
                        + ", above " + Durations.format(settings.maxSvidTtl()),
                        "lower the entry's x509_svid_ttl / jwt_svid_ttl (sigil entry update)"));
            }
        }
    }

    /** NHI8: one identity holding live credentials on resources of different environments. */
    private void environments() {
        if (settings.environments().isEmpty()) {
            notEvaluated.add(new Posture.NotEvaluated("nhi8.environments_mixed", Nhi.NHI8,
                    "no environments are configured (governance.environments); resources are not tagged"));
            return;
        }
        Map<String, Map<String, Set<String>>> byHolder = new TreeMap<>();
        for (Lease lease : snapshot.liveLeases()) {
            for (Map.Entry<String, List<String>> environment : settings.environments().entrySet()) {
                String qualified = lease.broker() + ":" + lease.resource();
                if (environment.getValue().stream().anyMatch(p -> matches(p, lease.resource()) || matches(p, qualified))) {
                    byHolder.computeIfAbsent(lease.holder().toString(), h -> new TreeMap<>())
                            .computeIfAbsent(environment.getKey(), e -> new TreeSet<>()).add(lease.resource());
                }
            }
        }
        byHolder.forEach((holder, environments) -> {
            if (environments.size() > 1) {
                findings.add(new Finding("nhi8.environments_mixed", Nhi.NHI8, Severity.HIGH, "one identity across environments",
                        List.of(holder), holder + " holds live credentials in " + String.join(" and ", environments.keySet()) + ": "
                        + Printable.clip(environments.toString(), 400),
                        "give each environment its own identity, and restrict each in policy to its environment's resources"));
            }
        });
    }

    private static boolean matches(String pattern, String value) {
        return pattern.endsWith("*") ? value.startsWith(pattern.substring(0, pattern.length() - 1)) : pattern.equals(value);
    }
}
