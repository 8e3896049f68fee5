package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.SecretHasher;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.task.TaskStore;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One "server instance" of the lease machinery on a data directory: a datastore, an audit trail, a task
 * store, a lease service over a {@link FakeBroker}. Opening a second fixture on the same directory
 * (after abandoning the first) is what a restart after a crash looks like.
 */
final class LeaseFixture implements AutoCloseable {
    static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/job");
    static final SpiffeId AGENT = SpiffeId.parse("spiffe://sigil.test/sigil/agent/join_token/n1");

    final Datastore datastore;
    final AuditTrail audit;
    final TaskStore tasks;
    final LeaseService leases;
    final SecretHasher hasher;
    final AtomicReference<Decision> decision;

    LeaseFixture(Path dir, MutableClock clock, FakeBroker.Backend backend, AtomicReference<Decision> decision) {
        this(dir, clock, backend, decision, LeaseRevoker.IMMEDIATE_BUDGET);
    }

    LeaseFixture(Path dir, MutableClock clock, FakeBroker.Backend backend, AtomicReference<Decision> decision,
                 Duration immediateBudget) {
        this.decision = decision;
        datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")));
        audit = AuditTrail.create(datastore, clock);
        hasher = SecretHasher.loadOrCreate(dir.resolve("keys"));
        PolicyEngine policy = request -> decision.get();
        LeaseService[] service = new LeaseService[1];
        tasks = TaskStore.create(datastore, audit, clock, (connection, id, at) -> service[0].revokeForTask(connection, id, at));
        service[0] = new LeaseService(new LeaseService.Dependencies(LeaseStore.create(datastore), datastore, audit, policy, tasks::find,
                subject -> SubjectEvidence.Evidence.none(), holder -> Optional.of(AGENT), hasher::keyedHash,
                List.of(new ConfiguredBroker(new FakeBroker(backend, true), Duration.ofMinutes(15), Duration.ofHours(1))), clock),
                immediateBudget);
        leases = service[0];
    }

    static AtomicReference<Decision> allowAll() {
        return new AtomicReference<>(new Decision.Allow(List.of("test allows"), Decision.Obligations.none()));
    }

    LeaseService.IssueRequest request(String resource) {
        return new LeaseService.IssueRequest(HOLDER, false, List.of(), FakeBroker.TYPE, resource, Optional.empty(), Optional.empty(),
                Map.of());
    }

    List<String> actions() {
        return audit.query(AuditQuery.all()).stream().map(AuditRecord::action).toList();
    }

    @Override
    public void close() {
        datastore.close();
    }
}
