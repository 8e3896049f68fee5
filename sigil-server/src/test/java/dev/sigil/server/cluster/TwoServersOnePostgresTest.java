package dev.sigil.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.Exchanges;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
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
        var config = TokenServerConfig.onPostgres(dir, name, database, """
                key_manager:
                  type: disk
                  dir: %s
                """.formatted(dir.resolve("keys")));
        return SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
    }

    private static int exchange(SigilServer server) throws Exception {
        RawHttp.Reply reply = Exchanges.exchange(server, Exchanges.anonymous(server), Exchanges.subjectToken(server, "spiffe://example.org/web"),
                "https://api.example.com");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.status();
    }
}
