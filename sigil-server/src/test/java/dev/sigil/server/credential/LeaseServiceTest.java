package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.task.Task;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseServiceTest {
    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private final FakeBroker.Backend backend = new FakeBroker.Backend();
    private LeaseFixture fixture;
    private LeaseService leases;

    @BeforeEach
    void start() {
        fixture = new LeaseFixture(dir, clock, backend, LeaseFixture.allowAll());
        leases = fixture.leases;
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    /** Starts over with a service whose revocation requests spend at most {@code budget} on first attempts. */
    private void withRevocationBudget(Duration budget) throws java.io.IOException {
        fixture.close();
        fixture = new LeaseFixture(java.nio.file.Files.createDirectories(dir.resolve("budget")), clock, backend,
                LeaseFixture.allowAll(), budget);
        leases = fixture.leases;
    }

    private LeaseService.Issued issue() {
        return leases.issue(fixture.request("db1"));
    }

    @Test
    void grantedLeaseIsActiveRecordedAndAuditedWithoutItsSecret() {
        LeaseService.Issued issued = issue();
        String password = issued.secret().revealToHolder().get("password");

        assertThat(backend.holds(issued.lease().id())).isTrue();
        Lease stored = leases.find(issued.lease().id()).orElseThrow();
        assertThat(stored.state()).isEqualTo(LeaseState.ACTIVE);
        assertThat(stored.expiresAt()).isEqualTo(stored.issuedAt().plus(Duration.ofMinutes(15)));
        assertThat(stored.maxExpiresAt()).isEqualTo(stored.issuedAt().plus(Duration.ofHours(1)));
        assertThat(stored.agent()).contains(LeaseFixture.AGENT);
        assertThat(stored.leakHash()).contains(fixture.hasher.keyedHash(password));
        assertThat(fixture.actions()).containsSubsequence("credential.grant_started", "credential.grant");
        assertThat(fixture.audit.query(AuditQuery.all()).toString()).doesNotContain(password);
        assertThat(stored.toString()).doesNotContain(password);
    }

    @Test
    void ttlIsCappedByTheBrokerMaximumAndPolicy() {
        LeaseService.IssueRequest asksForADay = new LeaseService.IssueRequest(LeaseFixture.HOLDER, false, List.of(), "fake", "db1",
                Optional.empty(), Optional.of(Duration.ofDays(1)), Map.of());
        Lease capped = leases.issue(asksForADay).lease();
        assertThat(capped.expiresAt()).isEqualTo(capped.issuedAt().plus(Duration.ofHours(1)));

        fixture.decision.set(new Decision.Allow(List.of("short"), new Decision.Obligations(Optional.of(Duration.ofMinutes(5)),
                Optional.empty(), false)));
        Lease short_ = leases.issue(asksForADay).lease();
        assertThat(short_.expiresAt()).isEqualTo(short_.issuedAt().plus(Duration.ofMinutes(5)));
        assertThat(short_.maxExpiresAt()).isEqualTo(short_.expiresAt());
    }

    @Test
    void refusalsAreTypedAndGrantNothing() {
        assertThatThrownBy(() -> leases.issue(fixture.request("nope"))).isInstanceOf(LeaseException.Invalid.class)
                .hasMessageContaining("nope");
        assertThatThrownBy(() -> leases.issue(new LeaseService.IssueRequest(LeaseFixture.HOLDER, false, List.of(), "vault", "db1",
                Optional.empty(), Optional.empty(), Map.of()))).isInstanceOf(LeaseException.Invalid.class).hasMessageContaining("vault");
        fixture.decision.set(new Decision.Deny(List.of("nobody may")));
        assertThatThrownBy(this::issue).isInstanceOf(LeaseException.Denied.class).hasMessageContaining("nobody may");
        fixture.decision.set(new Decision.Allow(List.of(), new Decision.Obligations(Optional.empty(), Optional.empty(), true)));
        assertThatThrownBy(this::issue).isInstanceOf(LeaseException.Denied.class).hasMessageContaining("mutual tls");
        assertThat(backend.granted).isEmpty();
        assertThat(leases.list(LeaseFilter.all(), 10)).isEmpty();
    }

    @Test
    void failedGrantIsRevokedByTheWorkerAndReportedAsUnavailable() {
        backend.failing = true;
        assertThatThrownBy(this::issue).isInstanceOf(LeaseException.Unavailable.class).hasMessageContaining("nothing was granted");
        Lease failed = leases.list(LeaseFilter.all(), 10).getFirst();
        assertThat(failed.state()).isEqualTo(LeaseState.REVOKING);
        assertThat(fixture.actions()).contains("credential.grant_failed");

        backend.failing = false;
        leases.revoker().runDue();
        assertThat(leases.find(failed.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
    }

    @Test
    void renewIsBoundedByTheMaximumExpiry() {
        Lease lease = issue().lease();
        clock.advance(Duration.ofMinutes(50));
        Lease renewed = leases.renew(lease.id(), Optional.of(Duration.ofMinutes(30)), "alice");
        assertThat(renewed.expiresAt()).isEqualTo(lease.maxExpiresAt());
        assertThat(backend.granted.get(lease.id()).validUntil()).isEqualTo(lease.maxExpiresAt());
        assertThatThrownBy(() -> leases.renew(lease.id(), Optional.empty(), "alice")).isInstanceOf(LeaseException.Invalid.class)
                .hasMessageContaining("may not outlive");
        assertThat(fixture.actions()).contains("credential.renew");
    }

    @Test
    void revokeByFilterMarksOnlyMatchingLeasesAndRevokesThemAtOnce() {
        Lease first = issue().lease();
        Lease second = leases.issue(fixture.request("db2")).lease();
        assertThatThrownBy(() -> leases.revoke(LeaseFilter.all(), "all", "alice")).isInstanceOf(LeaseException.Invalid.class);

        LeaseRevoker.Result result = leases.revoke(LeaseFilter.all().withPrefix(first.id().value().substring(0, 8)), "admin", "alice");
        assertThat(result).isEqualTo(new LeaseRevoker.Result(1, 1, 0));
        assertThat(backend.holds(first.id())).isFalse();
        assertThat(backend.holds(second.id())).isTrue();
        assertThat(leases.revoke(LeaseFilter.all().withHolder(LeaseFixture.HOLDER), "admin", "alice").requested()).isEqualTo(1);
        assertThat(backend.granted).isEmpty();
        assertThat(fixture.actions()).containsSubsequence("credential.revoke_requested", "credential.revoke");
    }

    @Test
    void revocationsOfOneRequestRunInParallelUpToTheBrokersPool() {
        List<Lease> issued = java.util.stream.IntStream.range(0, 8).mapToObj(i -> issue().lease()).toList();
        backend.parallelism = 4;
        backend.revokeTogether = new java.util.concurrent.CyclicBarrier(4);

        LeaseRevoker.Result result = leases.revoke(LeaseFilter.all().withHolder(LeaseFixture.HOLDER), "admin", "alice");

        assertThat(result).isEqualTo(new LeaseRevoker.Result(8, 8, 0));
        assertThat(backend.mostRevokingAtOnce.get()).isEqualTo(4);
        assertThat(backend.granted).isEmpty();
        assertThat(issued).allSatisfy(lease -> assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED));
        assertThat(fixture.actions().stream().filter("credential.revoke"::equals)).hasSize(8);
        assertThat(fixture.audit.verify()).isInstanceOf(dev.sigil.server.audit.AuditVerification.Intact.class);
    }

    @Test
    void aRevocationOfMoreLeasesThanItsTimeAllowsAnswersInTimeAndLeavesTheRestToTheWorker() throws Exception {
        withRevocationBudget(Duration.ofMillis(300));
        List<Lease> issued = java.util.stream.IntStream.range(0, 20).mapToObj(i -> issue().lease()).toList();
        backend.revokeLatency = Duration.ofMillis(100); // one at a time (parallelism 1): 2 s for all 20

        long started = System.nanoTime();
        LeaseRevoker.Result result = leases.revoke(LeaseFilter.all().withHolder(LeaseFixture.HOLDER), "admin", "alice");
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(took).as("answered after its 300 ms and the attempt under way, not after all 20").isLessThan(Duration.ofMillis(1500));
        assertThat(result.requested()).isEqualTo(20);
        assertThat(result.revoked()).isBetween(1, 19);
        assertThat(result.deferred()).isEqualTo(20 - result.revoked());
        assertThat(backend.granted).hasSize(result.deferred());
        // the deferred ones are due now and unclaimed: the worker (of any server) takes them without waiting for a claim to lapse
        assertThat(leases.store().dueForRevocation(clock.instant(), 100)).hasSize(result.deferred());

        backend.revokeLatency = Duration.ZERO;
        assertThat(leases.revoker().runDue()).isEqualTo(result.deferred());
        assertThat(backend.granted).isEmpty();
        assertThat(issued).allSatisfy(lease -> assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED));
        assertThat(fixture.actions().stream().filter("credential.revoke"::equals)).hasSize(20);
    }

    @Test
    void aRevocationWithNoTimeForAttemptsReleasesEveryClaimAtOnce() throws Exception {
        withRevocationBudget(Duration.ZERO);
        Lease lease = issue().lease();

        assertThat(leases.revoke(LeaseFilter.all().withId(lease.id()), "admin", "alice")).isEqualTo(new LeaseRevoker.Result(1, 0, 1));

        assertThat(backend.revokeCalls.get()).isZero();
        assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKING);
        assertThat(leases.store().claim(lease.id(), "another-server", clock.instant(), clock.instant().plusSeconds(60)))
                .as("another server's worker can claim it now, not only once this server's 60 s claim lapsed").isTrue();
    }

    @Test
    void concurrentGrantsAreEachRecordedPendingThenActiveWithTheirOwnRecords() throws Exception {
        int count = 32;
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
        List<java.util.concurrent.Future<LeaseService.Issued>> grants = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                grants.add(threads.submit(this::issue));
            }
            for (java.util.concurrent.Future<LeaseService.Issued> grant : grants) {
                Lease lease = grant.get(30, java.util.concurrent.TimeUnit.SECONDS).lease();
                assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.ACTIVE);
                assertThat(backend.holds(lease.id())).isTrue();
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(fixture.actions().stream().filter("credential.grant_started"::equals)).hasSize(count);
        assertThat(fixture.actions().stream().filter("credential.grant"::equals)).hasSize(count);
        assertThat(fixture.audit.verify()).isInstanceOf(dev.sigil.server.audit.AuditVerification.Intact.class);
    }

    @Test
    void failingRevocationIsRetriedWithBackoffAndStaysVisible() {
        Lease lease = issue().lease();
        backend.failing = true;
        assertThat(leases.revoke(LeaseFilter.all().withId(lease.id()), "admin", "alice")).isEqualTo(new LeaseRevoker.Result(1, 0, 0));
        Lease failing = leases.find(lease.id()).orElseThrow();
        assertThat(failing.state()).isEqualTo(LeaseState.REVOKING);
        assertThat(failing.revocation().orElseThrow().attempts()).isEqualTo(1);
        assertThat(failing.revocation().orElseThrow().lastError().orElseThrow()).contains("fake backend is down");
        assertThat(leases.store().failingRevocations()).isEqualTo(1);

        assertThat(leases.revoker().runDue()).isZero();
        assertThat(backend.revokeCalls.get()).as("not retried before the backoff").isEqualTo(1);
        for (int i = 0; i < 12; i++) {
            clock.advance(Duration.ofMinutes(1));
            leases.revoker().runDue();
        }
        assertThat(backend.revokeCalls.get()).isEqualTo(13);
        assertThat(fixture.actions().stream().filter("credential.revoke_failed"::equals).count()).as("first and every 10th").isEqualTo(2);

        backend.failing = false;
        clock.advance(Duration.ofMinutes(1));
        leases.revoker().runDue();
        assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
        assertThat(backend.granted).isEmpty();
        assertThat(leases.store().failingRevocations()).isZero();
    }

    @Test
    void backoffDoublesFromOneSecondToOneMinute() {
        assertThat(LeaseRevoker.backoff(1)).isEqualTo(1000);
        assertThat(LeaseRevoker.backoff(2)).isEqualTo(2000);
        assertThat(LeaseRevoker.backoff(6)).isEqualTo(32000);
        assertThat(LeaseRevoker.backoff(7)).isEqualTo(60000);
        assertThat(LeaseRevoker.backoff(100)).isEqualTo(60000);
    }

    @Test
    void expiredLeaseIsRevokedByTheReaper() {
        Lease lease = issue().lease();
        clock.advance(Duration.ofMinutes(15).minusSeconds(1));
        assertThat(leases.revoker().reapExpired()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(leases.revoker().reapExpired()).isEqualTo(1);
        leases.revoker().runDue();
        assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
        assertThat(backend.granted).isEmpty();
    }

    @Test
    void endingATaskRevokesItsLeases() {
        Task task = fixture.tasks.create("team", LeaseFixture.HOLDER, "report", List.of(Task.Permission.parse("issue:fake:db1")),
                Duration.ofMinutes(30), "alice");
        Lease lease = leases.issue(new LeaseService.IssueRequest(LeaseFixture.HOLDER, false, List.of(), "fake", "db1",
                Optional.of(task.id()), Optional.of(Duration.ofHours(1)), Map.of())).lease();
        assertThat(lease.expiresAt()).as("capped by the task").isEqualTo(task.expiresAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        assertThatThrownBy(() -> leases.issue(new LeaseService.IssueRequest(LeaseFixture.HOLDER, false, List.of(), "fake", "db2",
                Optional.of(task.id()), Optional.empty(), Map.of()))).isInstanceOf(LeaseException.Denied.class)
                .hasMessageContaining("outside task");

        fixture.tasks.end(task.id(), "alice");
        assertThat(leases.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKING);
        leases.revoker().runDue();
        assertThat(backend.granted).isEmpty();
    }

    @Test
    void reconciliationRevokesBackendOrphansAndRevokedLeasesStillGranted() {
        Lease kept = issue().lease();
        LeaseId orphan = LeaseId.random();
        backend.granted.put(orphan, new FakeBroker.Credential("x", clock.instant().plusSeconds(60)));
        Lease revoked = issue().lease();
        leases.revoke(LeaseFilter.all().withId(revoked.id()), "admin", "alice");
        backend.granted.put(revoked.id(), new FakeBroker.Credential("y", clock.instant().plusSeconds(60)));

        leases.revoker().reconcile();
        assertThat(backend.granted.keySet()).containsExactly(kept.id());
        Lease recorded = leases.find(orphan).orElseThrow();
        assertThat(recorded.state()).isEqualTo(LeaseState.REVOKED);
        assertThat(recorded.revocation().orElseThrow().reason()).contains("orphan");
    }
}
