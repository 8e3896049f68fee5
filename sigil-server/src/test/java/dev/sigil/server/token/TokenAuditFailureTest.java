package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fail closed: when the audit record of an exchange cannot be written, no token is issued or registered. */
class TokenAuditFailureTest {
    @TempDir
    Path dir;

    @Test
    void exchangeWhoseAuditRecordCannotBeWrittenIssuesNothing() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("data")));
        ServerConfig config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        PolicyEngine allowAll = request -> new Decision.Allow(List.of("allowed"), Decision.Obligations.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(allowAll))) {
            String svid = server.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/web"), Audience.of(server.tokenAudience()),
                    Duration.ofMinutes(5)).token();
            String url = "jdbc:sqlite:" + ((ServerConfig.Sqlite) config.datastore()).file();
            try (Connection connection = DriverManager.getConnection(url)) {
                connection.createStatement().executeUpdate("DELETE FROM audit_head");
            }

            String body = "grant_type=" + URLEncoder.encode(ExchangeRequest.GRANT_TYPE, StandardCharsets.UTF_8)
                    + "&subject_token_type=" + URLEncoder.encode(ExchangeRequest.JWT_TYPE, StandardCharsets.UTF_8)
                    + "&subject_token=" + svid + "&audience=https%3A%2F%2Fapi.example.com";
            RawHttp.Reply reply = RawHttp.tls(TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0)),
                    server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token", "application/x-www-form-urlencoded",
                    body.getBytes(StandardCharsets.US_ASCII), Map.of());

            assertThat(reply.status()).isEqualTo(503);
            assertThat(reply.body()).contains("temporarily_unavailable").doesNotContain("access_token").doesNotContain("Exception");
            try (Connection connection = DriverManager.getConnection(url);
                 ResultSet rows = connection.createStatement().executeQuery("SELECT count(*) FROM issued_tokens")) {
                rows.next();
                assertThat(rows.getInt(1)).isZero();
            }
        }
    }
}
