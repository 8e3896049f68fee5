package dev.sigil.server.token;

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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server on PostgreSQL whose database goes away (a crash-like stop) and comes back: while it is away a
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
            Path file = dir.resolve("sigil.yaml");
            Files.writeString(file, """
                    data_dir: %s
                    trust_domain: example.org
                    log_level: error
                    datastore:
                      type: postgresql
                      url: %s
                      user: %s
                    jwt:
                      issuer: https://sigil.example.org
                    bundle_endpoint:
                      enabled: false
                    agent_api:
                      port: 0
                    token_endpoint:
                      port: 0
                    """.formatted(dir.resolve("data"), database.jdbcUrl(), database.user()));
            var config = ServerConfigLoader.load(Optional.of(file),
                    ConfigEnvironment.of(Map.of(ServerConfigLoader.SIGIL_DATASTORE_PASSWORD, database.password()), dir), ConfigOverrides.none());
            try (SigilServer server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                    .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())))) {
                SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
                // minted before the outage: the subject token itself needs no database
                String subject = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()),
                        Duration.ofMinutes(5)).token();
                assertThat(exchange(server, tls, subject).status()).isEqualTo(200);
                long auditedBefore = count(database, "SELECT COUNT(*) FROM audit_records WHERE action = 'token.exchange'");

                RawHttp.Reply during;
                try (PostgresServer.Outage outage = postgres.outage()) {
                    during = exchange(server, tls, subject);
                }
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
        String body = "grant_type=" + URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                + "&subject_token_type=" + URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8)
                + "&subject_token=" + subjectToken + "&audience=" + URLEncoder.encode("https://api.example.com", StandardCharsets.UTF_8);
        return RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token", "application/x-www-form-urlencoded",
                body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private static long count(PostgresServer.Database database, String sql) throws Exception {
        try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
             var statement = connection.createStatement(); ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
        }
    }
}
