package dev.sigil.server.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bundle_endpoint.port: 0} without {@code jwt.issuer}: the issuer URL names the bundle port, so the
 * server binds the port before it builds anything that advertises it. What it advertises is where it listens
 * (it advertised {@code :0} before).
 */
class BundlePortZeroTest {
    @TempDir
    Path dir;

    @Test
    void aServerAskedForAnyBundlePortAdvertisesThePortItListensOn() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("data")));
        try (SigilServer server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir),
                ConfigOverrides.none()), Clock.systemUTC())) {
            int port = server.bundleEndpointAddress().orElseThrow().getPort();
            assertThat(port).isPositive();
            String issuer = "https://127.0.0.1:" + port;
            assertThat(server.tokenAudience()).startsWith(issuer);

            RawHttp.Reply discovery = RawHttp.tls(TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0)),
                    server.bundleEndpointAddress().orElseThrow(), "GET", "/.well-known/openid-configuration");
            assertThat(discovery.status()).as(discovery.body()).isEqualTo(200);
            JsonNode document = new ObjectMapper().readTree(discovery.body());
            assertThat(document.path("issuer").asText()).isEqualTo(issuer);
            assertThat(document.path("jwks_uri").asText()).startsWith(issuer + "/");
        }
    }
}
