package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.Exchanges;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL stopped under a server granting credentials: a credential request meanwhile is refused as
 * 503 {@code temporarily_unavailable} and grants nothing in the backend (never a credential without its
 * lease and audit record), and a lease whose TTL lapses during the outage is revoked in the backend once
 * the database is back.
 */
class CredentialsDuringDatastoreOutageTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final FakeBroker.Backend backend = new FakeBroker.Backend();

    @Test
    void aRequestDuringAnOutageGrantsNothingAndALeaseThatLapsedMeanwhileIsRevokedAfter() throws Exception {
        try (PostgresServer postgres = PostgresServer.start()) {
            PostgresServer.Database database = postgres.createDatabase();
            try (SigilServer server = SigilServer.start(TokenServerConfig.onPostgres(dir, "server", database, ""), Clock.systemUTC(),
                    SigilServer.Options.defaults()
                            .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none()))
                            .withBrokers(List.of(new ConfiguredBroker(new FakeBroker(backend, true), Duration.ofMinutes(15),
                                    Duration.ofHours(1)))))) {
                SSLContext tls = Exchanges.anonymous(server);
                String svid = server.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/billing/job"),
                        Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
                RawHttp.Reply granted = request(server, tls, svid, "2s");
                assertThat(granted.status()).as(granted.body()).isEqualTo(200);
                LeaseId lapsing = new LeaseId(JSON.readTree(granted.body()).path("lease_id").asText());
                Instant expiresAt = Instant.parse(JSON.readTree(granted.body()).path("expires_at").asText());
                assertThat(backend.holds(lapsing)).isTrue();

                RawHttp.Reply during;
                try (PostgresServer.Outage outage = postgres.outage()) {
                    during = request(server, tls, svid, "10m");
                    // the lease's TTL lapses while the database is down
                    Eventually.within(Duration.ofSeconds(10), () -> assertThat(Instant.now()).isAfter(expiresAt.plusMillis(500)));
                    assertThat(backend.holds(lapsing)).as("nobody can record the revocation yet").isTrue();
                }
                assertThat(during.status()).as(during.body()).isEqualTo(503);
                JsonNode error = JSON.readTree(during.body());
                assertThat(error.path("error").asText()).isEqualTo("temporarily_unavailable");
                assertThat(backend.granted.keySet()).as("nothing granted during the outage").containsExactly(lapsing);

                Eventually.within(Duration.ofSeconds(30), () -> {
                    assertThat(server.leases().store().find(lapsing).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
                    assertThat(backend.holds(lapsing)).as("revoked in the backend once the database is back").isFalse();
                });
                RawHttp.Reply after = request(server, tls, svid, "10m");
                assertThat(after.status()).as(after.body()).isEqualTo(200);
            }
        }
    }

    private static RawHttp.Reply request(SigilServer server, SSLContext tls, String svid, String ttl) throws Exception {
        return RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials", "application/json",
                ("{\"broker\":\"fake\",\"resource\":\"db1\",\"ttl\":\"" + ttl + "\"}").getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + svid));
    }
}
