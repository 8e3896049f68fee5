package dev.sigil.server.drift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.datastore.DatastoreContract;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DriftGatesTest extends DatastoreContract {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");

    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }

    @Test
    void credentialsIssuedBeforeTheDriftAreRefusedAndFreshOnesPass() {
        DriftGates gates = new DriftGates(datastore, clock);
        Instant drift = clock.instant();
        set(gates, new DriftGates.Gate(WEB, DriftGates.Mode.REVOKE, drift, "d-1", drift.plus(Duration.ofHours(1))));

        assertThat(gates.refusesGrant(WEB, drift.minusSeconds(1))).isPresent();
        assertThat(DriftGates.reason(gates.refusesGrant(WEB, drift.minusSeconds(1)).orElseThrow()))
                .contains("drift d-1").contains("re-attest");
        assertThat(gates.refusesGrant(WEB, drift)).isEmpty();
        assertThat(gates.refusesGrant(SpiffeId.parse("spiffe://example.org/other"), drift.minusSeconds(1))).isEmpty();
    }

    @Test
    void gatesSurviveARestartAndEndWhenTheyExpire() {
        Instant drift = clock.instant();
        set(new DriftGates(datastore, clock), new DriftGates.Gate(WEB, DriftGates.Mode.NARROW, drift, "d-2", drift.plus(Duration.ofMinutes(5))));

        DriftGates restarted = new DriftGates(datastore, clock);
        assertThat(restarted.refusesGrant(WEB, drift.minusSeconds(1))).isPresent();
        assertThat(restarted.refusesRenewal(WEB)).isPresent();

        clock.advance(Duration.ofMinutes(6));
        restarted.reload();
        assertThat(restarted.refusesGrant(WEB, drift.minusSeconds(1))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM drift_gates")).isZero();
    }

    @Test
    void reattestAllowsRenewalsButNotGrantsWithOldCredentials() {
        DriftGates gates = new DriftGates(datastore, clock);
        Instant drift = clock.instant();
        set(gates, new DriftGates.Gate(WEB, DriftGates.Mode.REATTEST, drift, "d-3", drift.plus(Duration.ofHours(1))));

        assertThat(gates.refusesRenewal(WEB)).isEmpty();
        assertThat(gates.refusesGrant(WEB, drift.minusSeconds(1))).isPresent();
    }

    private void set(DriftGates gates, DriftGates.Gate gate) {
        datastore.transaction(connection -> {
            DriftGates.set(connection, gate);
            return null;
        });
        gates.remember(gate);
    }
}
