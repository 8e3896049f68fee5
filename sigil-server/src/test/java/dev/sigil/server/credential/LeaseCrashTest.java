package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server killed mid-grant or mid-revocation, restarted on the same data directory, leaves nothing
 * granted that it considers revoked or never recorded. The kill is an {@link Error} thrown inside the
 * broker call (no handler runs, as with kill -9) after which the instance is abandoned without any
 * clean stop; the backend survives, as a real database would.
 */
class LeaseCrashTest {
    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private final FakeBroker.Backend backend = new FakeBroker.Backend();

    private LeaseFixture restart() {
        backend.crashAfterGrant = false;
        backend.crashBeforeRevoke = false;
        LeaseFixture next = new LeaseFixture(dir, clock, backend, LeaseFixture.allowAll());
        next.leases.revoker().reconcile();
        return next;
    }

    @Test
    void killBetweenGrantAndRecordLeavesNothingGrantedAfterRestart() {
        LeaseFixture crashed = new LeaseFixture(dir, clock, backend, LeaseFixture.allowAll());
        backend.crashAfterGrant = true;
        assertThatThrownBy(() -> crashed.leases.issue(crashed.request("db1"))).isInstanceOf(FakeBroker.Killed.class);
        assertThat(backend.granted).as("granted in the backend, never activated").hasSize(1);
        LeaseId id = backend.granted.keySet().iterator().next();

        try (LeaseFixture restarted = restart()) {
            assertThat(backend.granted).isEmpty();
            assertThat(restarted.leases.find(id).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
            assertThat(restarted.actions()).containsSubsequence("credential.grant_started", "credential.revoke_requested",
                    "credential.revoke");
        }
    }

    @Test
    void grantWhoseRecordWasLostIsFoundInTheBackendAndRevokedAfterRestart() {
        // The worst case of a lost write: the backend has a lease the store never committed.
        LeaseId lost = LeaseId.random();
        backend.granted.put(lost, new FakeBroker.Credential("secret", clock.instant().plusSeconds(600)));
        try (LeaseFixture restarted = restart()) {
            assertThat(backend.granted).isEmpty();
            assertThat(restarted.leases.find(lost).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
        }
    }

    @Test
    void killDuringRevocationIsFinishedAfterRestart() {
        LeaseFixture crashed = new LeaseFixture(dir, clock, backend, LeaseFixture.allowAll());
        Lease active = crashed.leases.issue(crashed.request("db1")).lease();
        Lease other = crashed.leases.issue(crashed.request("db2")).lease();
        backend.crashBeforeRevoke = true;
        assertThatThrownBy(() -> crashed.leases.revoke(LeaseFilter.all().withHolder(LeaseFixture.HOLDER), "admin", "alice"))
                .isInstanceOf(FakeBroker.Killed.class);
        assertThat(backend.granted).containsKeys(active.id(), other.id());

        try (LeaseFixture restarted = restart()) {
            assertThat(backend.granted).isEmpty();
            assertThat(restarted.leases.list(LeaseFilter.all(), 10)).extracting(Lease::state).containsOnly(LeaseState.REVOKED);
        }
    }

    @Test
    void activeLeaseSurvivesARestartUntouched() {
        LeaseFixture first = new LeaseFixture(dir, clock, backend, LeaseFixture.allowAll());
        LeaseService.Issued issued = first.leases.issue(first.request("db1"));
        try (LeaseFixture restarted = restart()) {
            assertThat(restarted.leases.find(issued.lease().id()).orElseThrow().state()).isEqualTo(LeaseState.ACTIVE);
            assertThat(backend.granted).containsKey(issued.lease().id());
            assertThat(backend.granted.get(issued.lease().id()).password())
                    .isEqualTo(issued.secret().revealToHolder().get("password"));
        }
        assertThat(Map.copyOf(backend.granted)).hasSize(1);
    }
}
