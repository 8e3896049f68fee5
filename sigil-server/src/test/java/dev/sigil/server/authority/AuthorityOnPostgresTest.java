package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import dev.sigil.testkit.PostgresServer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The journal on a real PostgreSQL (the V3 migration, partial unique indexes, ON CONFLICT, conditional
 * transitions), started by the testkit on a loopback port with a fresh database.
 */
class AuthorityOnPostgresTest {
    @Test
    void authoritiesRotateAndRestartOnPostgresql() throws Exception {
        TrustDomain domain = TrustDomain.parse("pg-" + UUID.randomUUID().toString().substring(0, 8) + ".example.org");
        SpiffeId workload = domain.id("/svc");
        MutableClock clock = MutableClock.atEpochOfTests();
        AuthorityConfig config = AuthorityConfig.defaults(domain).withCaTtl(Duration.ofHours(6)).withJwtKeyTtl(Duration.ofHours(6));
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        DatastoreConfig store = DatastoreConfig.postgresql(database.jdbcUrl(), database.user(), database.password());
        KeyManager keys = KeyManagers.memory();
        try (Datastore datastore = Datastore.open(store)) {
            Authority authority = Authority.start(config, datastore, keys, clock, RotationListener.none());
            for (int hour = 1; hour <= 13; hour++) {
                clock.advance(Duration.ofHours(1));
                authority.tick();
                Pkix.validate(authority.mintX509Svid(workload, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of()).chain(),
                        authority.bundle().x509Authorities(), clock.instant());
            }
            assertThat(authority.journal()).extracting(AuthorityRecord::state).contains(AuthorityState.PRUNED, AuthorityState.ACTIVE);
            assertThat(authority.bundle().sequence()).isGreaterThan(4);

            Authority restarted = Authority.start(config, datastore, keys, clock, RotationListener.none());

            assertThat(restarted.bundle().toJson()).isEqualTo(authority.bundle().toJson());
        }
    }
}
