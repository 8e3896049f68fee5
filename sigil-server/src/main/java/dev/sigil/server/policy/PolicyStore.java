package dev.sigil.server.policy;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy in force, persisted in the datastore with a version number, and the engine that decides
 * with it.
 *
 * <p>Guarantees: a document is compiled and fully validated before anything is stored, so an invalid
 * document changes nothing and the previous policy stays in force; every attempt is audited as
 * {@code policy.apply} (the success in the same transaction as the new version, a refusal with its line
 * and reason); decisions always see one complete policy, swapped atomically. A server starts with the
 * latest stored policy, or with the empty policy (deny everything) when none was ever applied.
 *
 * <p>Several servers on one datastore converge by calling {@link #reload()} periodically (the server does
 * every few seconds; it reads one number when nothing changed). Two concurrent
 * applies cannot both take the same version: the loser's transaction fails on the primary key.
 */
public final class PolicyStore implements PolicyEngine {
    static final String AUDIT_ACTION = "policy.apply";

    /** The policy in force: version 0 is the empty policy no one applied. */
    public record ActivePolicy(long version, String yaml, CompiledPolicy policy) {
    }

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private final AtomicReference<ActivePolicy> active = new AtomicReference<>(new ActivePolicy(0, "",
            CompiledPolicy.empty()));

    public PolicyStore(Datastore datastore, AuditTrail audit, Clock clock) {
        this.datastore = datastore;
        this.audit = audit;
        this.clock = clock;
        reload();
    }

    @Override
    public Decision decide(PolicyRequest request) {
        return active.get().policy().decide(request);
    }

    public ActivePolicy current() {
        return active.get();
    }

    /**
     * Validates {@code yaml}, stores it as the next version and puts it in force.
     *
     * @throws PolicyDocumentException when the document is invalid (audited as denied; nothing changes)
     */
    public ActivePolicy apply(String yaml, String actor) {
        AuditEvent.checkActor(actor);
        CompiledPolicy compiled;
        try {
            compiled = CompiledPolicy.parse(yaml);
        } catch (PolicyDocumentException e) {
            audit.append(AuditEvent.denied(actor, AUDIT_ACTION, "policy", Map.of(
                    "line", Integer.toString(e.line()), "reason", truncate(e.reason()))));
            throw e;
        }
        ActivePolicy applied = datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            long version = latestVersion(connection) + 1;
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO policy_versions (version, yaml, rule_count, applied_by, applied_at) VALUES (?, ?, ?, ?, ?)")) {
                insert.setLong(1, version);
                insert.setString(2, yaml);
                insert.setInt(3, compiled.ruleCount());
                insert.setString(4, actor);
                insert.setLong(5, clock.millis());
                insert.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, AUDIT_ACTION, "policy", Map.of(
                    "version", Long.toString(version), "rules", Integer.toString(compiled.ruleCount()))));
            return new ActivePolicy(version, yaml, compiled);
        });
        // Never move backwards if a concurrent reload already installed a later version.
        active.accumulateAndGet(applied, (old, fresh) -> fresh.version() > old.version() ? fresh : old);
        return applied;
    }

    /**
     * Puts the latest stored version in force if it is newer than the one in force. A stored document
     * that no longer compiles (e.g. after a downgrade) keeps the current policy and fails loudly.
     */
    public ActivePolicy reload() {
        long inForce = active.get().version();
        Optional<ActivePolicy> latest = datastore.read(connection -> {
            if (latestVersion(connection) <= inForce) {
                return Optional.empty();
            }
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT version, yaml FROM policy_versions ORDER BY version DESC LIMIT 1");
                 ResultSet rows = select.executeQuery()) {
                return rows.next() ? Optional.of(new ActivePolicy(rows.getLong(1), rows.getString(2), null))
                        : Optional.empty();
            }
        });
        if (latest.isEmpty()) {
            return active.get();
        }
        ActivePolicy stored = latest.get();
        ActivePolicy compiled = new ActivePolicy(stored.version(), stored.yaml(), CompiledPolicy.parse(stored.yaml()));
        return active.accumulateAndGet(compiled, (old, fresh) -> fresh.version() > old.version() ? fresh : old);
    }

    /**
     * Since when each rule of the policy in force has been in force without a break: the time the earliest
     * version of the unbroken run of stored versions that all contain a rule of that name was applied. Reads
     * at most {@code maxVersions} versions back; a rule present in all of them reads as in force since the
     * oldest one read. Rules of the policy in force only; empty when no policy was applied.
     */
    public Map<String, java.time.Instant> rulesInForceSince(int maxVersions) {
        java.util.Set<String> current = new java.util.HashSet<>(active.get().policy().rules().stream().map(RuleView::name).toList());
        Map<String, java.time.Instant> since = new java.util.HashMap<>();
        if (current.isEmpty()) {
            return since;
        }
        record Version(String yaml, long appliedAt) {
        }
        List<Version> versions = datastore.read(connection -> {
            List<Version> read = new java.util.ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT yaml, applied_at FROM policy_versions ORDER BY version DESC LIMIT ?")) {
                select.setInt(1, maxVersions);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        read.add(new Version(rows.getString(1), rows.getLong(2)));
                    }
                }
            }
            return read;
        });
        java.util.Set<String> running = new java.util.HashSet<>(current);
        for (Version version : versions) {
            java.util.Set<String> names;
            try {
                names = new java.util.HashSet<>(CompiledPolicy.parse(version.yaml()).rules().stream().map(RuleView::name).toList());
            } catch (RuntimeException e) {
                break;
            }
            running.retainAll(names);
            if (running.isEmpty()) {
                break;
            }
            for (String name : running) {
                since.put(name, java.time.Instant.ofEpochMilli(version.appliedAt()));
            }
        }
        return since;
    }

    private static long latestVersion(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT MAX(version) FROM policy_versions");
             ResultSet rows = select.executeQuery()) {
            rows.next();
            long max = rows.getLong(1);
            return rows.wasNull() ? 0 : max;
        }
    }

    private static String truncate(String text) {
        return text.length() <= AuditEvent.MAX_DETAIL_LENGTH ? text : text.substring(0, AuditEvent.MAX_DETAIL_LENGTH);
    }
}
