package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.sigil.testkit.LiveSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The postgresql broker through the whole server, configured from YAML as an operator would: a workload
 * asks {@code POST /v1/credentials}, logs in to a real PostgreSQL with what it got, and loses the live
 * session and the login when an operator revokes the lease or when its TTL lapses.
 */
class PostgresCredentialEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/billing/report-job");

    @TempDir
    Path dir;
    private SigilServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void issuedCredentialWorksAndIsCutOffByRevocationAndByExpiry() throws Exception {
        PostgresBrokerFixture fixture = PostgresBrokerFixture.create();
        start(fixture);

        JsonNode issued = issue("10m");
        Map<String, String> credential = credential(issued);
        try (LiveSession live = LiveSession.open(credential.get("url"), credential.get("username"), credential.get("password"))) {
            Connection session = live.connection();
            assertThat(readVisible(session)).isEqualTo(42);
            assertThat(live.failureOf("INSERT INTO visible VALUES (1)")).contains(LiveSession.INSUFFICIENT_PRIVILEGE);
            assertThat(live.failureOf("SELECT * FROM hidden")).contains(LiveSession.INSUFFICIENT_PRIVILEGE);

            RawHttp.Reply revoked = admin("/v1/leases/revoke", "{\"id\":\"" + issued.path("lease_id").asText() + "\"}");
            assertThat(JSON.readTree(revoked.body()).path("revoked").asInt()).as(revoked.body()).isEqualTo(1);
            assertThat(live.ended()).as("the live session is terminated (57P01), not merely stripped of privileges (42501)")
                    .contains(LiveSession.TERMINATED);
        }
        assertThatThrownBy(() -> login(credential).close()).as("new logins fail").isInstanceOf(SQLException.class);

        JsonNode shortLived = issue("2s");
        Map<String, String> expiring = credential(shortLived);
        try (Connection session = login(expiring)) {
            assertThat(readVisible(session)).isEqualTo(42);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (stillWorks(session) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(stillWorks(session)).as("the session ends after the ttl without any command").isFalse();
        }
        assertThatThrownBy(() -> login(expiring).close()).isInstanceOf(SQLException.class);
        String path = "/v1/leases/" + shortLived.path("lease_id").asText();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!state(path).equals("revoked") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(state(path)).isEqualTo("revoked");
    }

    private void start(PostgresBrokerFixture fixture) throws Exception {
        Path passwordFile = dir.resolve("pg-broker.pass");
        Files.writeString(passwordFile, fixture.adminPassword + "\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                brokers:
                  postgresql:
                    url: "%s"
                    admin_user: %s
                    admin_password_file: %s
                    role_prefix: %s
                    default_ttl: 10m
                    resources:
                      reports:
                        member_of: [%s]
                """.formatted(dir.resolve("data"), fixture.database.jdbcUrl(), fixture.admin, passwordFile, fixture.prefix,
                fixture.reader));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
    }

    private JsonNode issue(String ttl) throws Exception {
        SSLContext anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String svid = server.authority().mintJwtSvid(WORKLOAD, Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials",
                "application/json", ("{\"broker\":\"postgresql\",\"resource\":\"reports\",\"ttl\":\"" + ttl + "\"}")
                        .getBytes(StandardCharsets.UTF_8), Map.of("Authorization", "Bearer " + svid));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    private String state(String leasePath) throws Exception {
        return JSON.readTree(RawHttp.unix(server.admin().socketPath(), "GET", leasePath).body()).path("state").asText();
    }

    private static Map<String, String> credential(JsonNode issued) {
        JsonNode c = issued.path("credential");
        return Map.of("url", c.path("url").asText(), "username", c.path("username").asText(), "password", c.path("password").asText());
    }

    private static Connection login(Map<String, String> credential) throws SQLException {
        return DriverManager.getConnection(credential.get("url"), credential.get("username"), credential.get("password"));
    }

    private static int readVisible(Connection session) throws SQLException {
        try (Statement statement = session.createStatement(); ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
            rows.next();
            return rows.getInt(1);
        }
    }

    private static boolean stillWorks(Connection session) {
        try {
            return readVisible(session) == 42;
        } catch (SQLException e) {
            return false;
        }
    }

    private RawHttp.Reply admin(String path, String json) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), "POST", path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }
}
