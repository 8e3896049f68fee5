package dev.sigil.server.token;

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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server on PostgreSQL whose database goes away (stopped: every session terminated) and comes back: while it is away a
 * token exchange is answered 503 {@code temporarily_unavailable} and issues nothing (no token, no registry
 * row, no audit record); once it is back, exchanges succeed again without restarting Sigil.
 */
class ExchangeDuringDatastoreOutageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "spiffe://example.org/web";

    @TempDir
    Path dir;

    @Test
    void anExchangeDuringAnOutageIsRefusedAsTemporarilyUnavailableAndIssuesNothing() throws Exception {
        try (PostgresServer postgres = PostgresServer.start()) {
            PostgresServer.Database database = postgres.createDatabase();
            var config = TokenServerConfig.onPostgres(dir, "server", database, "");
            try (SigilServer server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                    .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())))) {
                SSLContext tls = Exchanges.anonymous(server);
                // minted before the outage: the subject token itself needs no database
                String subject = Exchanges.subjectToken(server, WEB);
                assertThat(exchange(server, tls, subject).status()).isEqualTo(200);
                long auditedBefore = count(database, "SELECT COUNT(*) FROM audit_records WHERE action = 'token.exchange'");

                RawHttp.Reply during;
                long fastAnswer;
                try (PostgresServer.Outage outage = postgres.outage()) {
                    during = exchange(server, tls, subject);
                    // once the outage is known, the next exchange is refused at once, not after a connection timeout
                    long started = System.nanoTime();
                    assertThat(exchange(server, tls, subject).status()).isEqualTo(503);
                    fastAnswer = System.nanoTime() - started;
                }
                assertThat(Duration.ofNanos(fastAnswer)).as("time to refuse an exchange during a known outage")
                        .isLessThan(Duration.ofMillis(500));
                assertThat(during.status()).as(during.body()).isEqualTo(503);
                JsonNode error = JSON.readTree(during.body());
                assertThat(error.path("error").asText()).isEqualTo("temporarily_unavailable");
                assertThat(error.path("error_description").asText()).contains("nothing was issued");
                assertThat(error.has("access_token")).isFalse();

                Eventually.within(Duration.ofSeconds(30), () -> assertThat(exchange(server, tls, subject).status()).isEqualTo(200));
                // exactly the exchanges that answered 200 are registered and audited: the refused one left nothing
                long audited = count(database, "SELECT COUNT(*) FROM audit_records WHERE action = 'token.exchange'");
                long registered = count(database, "SELECT COUNT(*) FROM issued_tokens");
                assertThat(registered).isEqualTo(audited);
                assertThat(audited).isGreaterThan(auditedBefore);
            }
        }
    }

    private static RawHttp.Reply exchange(SigilServer server, SSLContext tls, String subjectToken) throws Exception {
        return Exchanges.exchange(server, tls, subjectToken, "https://api.example.com");
    }

    private static long count(PostgresServer.Database database, String sql) throws Exception {
        try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
             var statement = connection.createStatement(); ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
        }
    }
}
