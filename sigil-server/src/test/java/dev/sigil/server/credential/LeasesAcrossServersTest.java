package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leases with several full servers on one real PostgreSQL database: a grant under way on one server is
 * its own until that server stops — another server starting meanwhile leaves it alone — and once it
 * stops, the job leader revokes what it had granted and its late activation is refused.
 */
class LeasesAcrossServersTest {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://example.org/billing/job");

    @TempDir
    Path dir;
    private final FakeBroker.Backend backend = new FakeBroker.Backend();

    @Test
    void aServerStartingWhileAnotherGrantsLeavesThatGrantToFinish() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        try (SigilServer a = start("a", database)) {
            CompletableFuture<LeaseService.Issued> issued = issueHeld(a);
            LeaseId id = backend.granted.keySet().iterator().next();
            assertThat(a.leases().store().find(id).orElseThrow().state()).isEqualTo(LeaseState.PENDING);

            try (SigilServer b = start("b", database)) {
                assertThat(b.leases().store().find(id).orElseThrow().state())
                        .as("another server's grant under way, after this server's start-up reconciliation").isEqualTo(LeaseState.PENDING);
                backend.grantGate.countDown();
                LeaseService.Issued lease = issued.get(10, TimeUnit.SECONDS);
                assertThat(lease.lease().id()).isEqualTo(id);
                assertThat(b.leases().store().find(id).orElseThrow().state()).isEqualTo(LeaseState.ACTIVE);
                assertThat(backend.holds(id)).as("the credential the holder received still works").isTrue();
            }
        }
    }

    @Test
    void aStoppedServersGrantIsRevokedByTheLeaderAndItsLateActivationRefused() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        try (SigilServer b = start("b", database)) {
            SigilServer a = start("a", database);
            CompletableFuture<LeaseService.Issued> issued;
            LeaseId id;
            try {
                issued = issueHeld(a);
                id = backend.granted.keySet().iterator().next();
            } finally {
                a.close(); // leaves the live servers at once; its grant thread is still inside the broker
            }
            Eventually.within(Duration.ofSeconds(10), () -> {
                assertThat(b.leases().store().find(id).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
                assertThat(backend.holds(id)).as("revoked in the backend by the surviving server").isFalse();
            });
            backend.grantGate.countDown();
            assertThatThrownBy(() -> issued.get(10, TimeUnit.SECONDS)).as("no credential from a grant taken over")
                    .hasCauseInstanceOf(LeaseException.class);
            assertThat(b.leases().store().find(id).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
            assertThat(backend.holds(id)).isFalse();
        }
    }

    @Test
    void aLeakReportedToAnotherServerFindsAndRevokesWhatTheFirstGranted() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        try (SigilServer a = start("a", database); SigilServer b = start("b", database)) {
            LeaseService.Issued issued = a.leases().issue(new LeaseService.IssueRequest(HOLDER, false, List.of(), FakeBroker.TYPE, "db1",
                    Optional.empty(), Optional.empty(), Map.of()));
            String password = backend.granted.get(issued.lease().id()).password();
            RawHttp.Reply reply = RawHttp.unix(b.admin().socketPath(), "POST", "/v1/leaks", "application/json",
                    ("{\"value\": \"" + password + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            assertThat(reply.body()).contains(issued.lease().id().value());
            Eventually.within(Duration.ofSeconds(10), () -> {
                assertThat(b.leases().store().find(issued.lease().id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
                assertThat(backend.holds(issued.lease().id())).as("the leaked credential is gone from the backend").isFalse();
            });
        }
    }

    @Test
    void aServerWithAnotherAuditKeyThanTheDatastoreRecordsRefusesToStart() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        try (SigilServer a = start("a", database)) {
            var ownKey = TokenServerConfig.onPostgresWith(dir, "b", database, "");
            assertThatThrownBy(() -> SigilServer.start(ownKey, Clock.systemUTC(), SigilServer.Options.defaults()))
                    .isInstanceOf(dev.sigil.server.audit.AuditException.class)
                    .hasMessageContaining("audit.hmac_key_file").hasMessageContaining("not the key the servers sharing this datastore use");
            assertThat(a.leases().store().list(LeaseFilter.all(), 10)).as("the running server is untouched").isEmpty();
        }
    }

    /** Starts a grant on {@code server} and returns once its credential is in the backend, held before activation. */
    private CompletableFuture<LeaseService.Issued> issueHeld(SigilServer server) throws InterruptedException {
        backend.grantEntered = new CountDownLatch(1);
        backend.grantGate = new CountDownLatch(1);
        CompletableFuture<LeaseService.Issued> issued = CompletableFuture.supplyAsync(() -> server.leases().issue(
                new LeaseService.IssueRequest(HOLDER, false, List.of(), FakeBroker.TYPE, "db1", Optional.empty(), Optional.empty(),
                        Map.of())));
        if (!backend.grantEntered.await(10, TimeUnit.SECONDS)) {
            issued.getNow(null); // throws the grant's refusal, if that is why it never reached the backend
            throw new AssertionError("the grant did not reach the backend within 10 s");
        }
        return issued;
    }

    private SigilServer start(String name, PostgresServer.Database database) throws Exception {
        var config = TokenServerConfig.onPostgres(dir, name, database, """
                key_manager:
                  type: disk
                  dir: %s
                """.formatted(dir.resolve("keys")));
        return SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none()))
                .withBrokers(List.of(new ConfiguredBroker(new FakeBroker(backend, true), Duration.ofMinutes(15), Duration.ofHours(1)))));
    }
}
