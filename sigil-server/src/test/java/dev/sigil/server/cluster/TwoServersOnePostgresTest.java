package dev.sigil.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two full servers on one real PostgreSQL database (their own data directories, one shared key directory):
 * both answer token exchanges, exactly one runs the one-server jobs, the other takes them over within the
 * documented bound when the leader stops, and the one audit chain both wrote verifies.
 */
class TwoServersOnePostgresTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void bothServeExactlyOneRunsTheOneServerJobsAndTheOtherTakesOverWhenItStops() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        SigilServer a = start("a", database);
        SigilServer b = null;
        try {
            b = start("b", database);
            SigilServer second = b;
            Eventually.within(Duration.ofSeconds(5), () -> assertThat(a.runsOneServerJobs() ^ second.runsOneServerJobs())
                    .as("exactly one of the two servers runs the one-server jobs").isTrue());
            assertThat(exchange(a)).isEqualTo(200);
            assertThat(exchange(b)).isEqualTo(200);

            SigilServer leader = a.runsOneServerJobs() ? a : b;
            SigilServer follower = leader == a ? b : a;
            leader.close();
            long stopped = System.nanoTime();
            Eventually.within(Duration.ofSeconds(5), () -> assertThat(follower.runsOneServerJobs()).isTrue());
            assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(exchange(follower)).isEqualTo(200);

            RawHttp.Reply verify = RawHttp.unix(follower.admin().socketPath(), "POST", "/v1/audit/verify", "application/json", new byte[0]);
            assertThat(verify.status()).as(verify.body()).isEqualTo(200);
            JsonNode result = JSON.readTree(verify.body());
            assertThat(result.path("intact").asBoolean()).as(verify.body()).isTrue();
        } finally {
            a.close();
            if (b != null) {
                b.close();
            }
        }
    }

    private SigilServer start(String name, PostgresServer.Database database) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                datastore:
                  type: postgresql
                  url: %s
                  user: %s
                key_manager:
                  type: disk
                  dir: %s
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve(name), database.jdbcUrl(), database.user(), dir.resolve("keys")));
        var config = ServerConfigLoader.load(Optional.of(file),
                ConfigEnvironment.of(Map.of(ServerConfigLoader.SIGIL_DATASTORE_PASSWORD, database.password()), dir), ConfigOverrides.none());
        return SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
    }

    private static int exchange(SigilServer server) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String subject = server.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/web"), Audience.of(server.tokenAudience()),
                Duration.ofMinutes(5)).token();
        String body = "grant_type=" + URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                + "&subject_token_type=" + URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8)
                + "&subject_token=" + subject + "&audience=" + URLEncoder.encode("https://api.example.com", StandardCharsets.UTF_8);
        RawHttp.Reply reply = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.status();
    }
}
