package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.BrokerDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil credential get} through the real path: a server with the postgresql broker, a real agent
 * attested with a join token serving this test's uid on its Workload API, and the CLI run as that
 * workload — it fetches its own JWT-SVID and bundle from the socket, asks the token endpoint, and the
 * credential it prints logs in to a real PostgreSQL.
 */
class CredentialGetEndToEndTest {
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void workloadGetsAWorkingPostgresCredentialWithTheCli() throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
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
                """.formatted(dir.resolve("server")) + pg.brokersYaml(dir));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", "spiffe://example.org/billing/report-job", "parent_id", agentId,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing"));
            Path agentDir = Files.createDirectories(dir.resolve("agent"));
            Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
            Path bundle = agentDir.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain("example.org"),
                    new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                    new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                    agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
            try (AgentRuntime agent = AgentRuntime.start(agentConfig, Clock.systemUTC())) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (agent.agent().cache().identityCount() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                CliHarness.Result result = new CliHarness(Map.of(), dir).run("credential", "get", "--broker", "postgresql",
                        "--resource", "reports", "--socket", agent.workloadApiSocket().toString(),
                        "--server", "https://127.0.0.1:" + server.tokenEndpointAddress().orElseThrow().getPort(),
                        "--audience", server.tokenAudience(), "--output", "json");
                assertThat(result.exitCode()).as(result.err()).isZero();
                JsonNode credential = json.readTree(result.out()).path("credential");
                try (Connection session = DriverManager.getConnection(credential.path("url").asText(),
                        credential.path("username").asText(), credential.path("password").asText());
                     Statement statement = session.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
                    assertThat(rows.next()).isTrue();
                    assertThat(rows.getInt(1)).isEqualTo(42);
                }
                assertThat(json.readTree(result.out()).path("lease_id").asText()).hasSize(24);
            }
        }
    }
}
