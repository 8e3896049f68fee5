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
import dev.sigil.testkit.Eventually;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil token generate --spiffe-id ID} as SPIRE's {@code -spiffeID}: the node that attests with
 * the token is known by ID (a node alias entry), so an entry registered under parent ID before the node
 * ever attested is served by that node's agent.
 */
class TokenAliasEndToEndTest {
    private static final String NODE = "spiffe://example.org/node1";
    private static final String WORKLOAD = "spiffe://example.org/web";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void entriesUnderTheTokensSpiffeIdAreServedByTheNodeThatAttestsWithIt() throws Exception {
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
                  enabled: false
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        CliHarness cli = new CliHarness(Map.of(), dir);
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC())) {
            String socket = server.admin().socketPath().toString();
            CliHarness.Result generated = cli.run("token", "generate", "--socket", socket, "--spiffe-id", NODE, "--output", "json");
            assertThat(generated.exitCode()).as(generated.err()).isZero();
            JsonNode token = json.readTree(generated.out());
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            CliHarness.Result created = cli.run("entry", "create", "--socket", socket, "--spiffe-id", WORKLOAD, "--parent-id", NODE,
                    "--selector", "unix:uid:" + uid, "--owner", "team-web");
            assertThat(created.exitCode()).as(created.err()).isZero();

            Path agentDir = Files.createDirectories(dir.resolve("agent"));
            Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
            Path bundle = agentDir.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain("example.org"),
                    new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                    new AgentConfig.TrustBootstrap.BundleFile(bundle),
                    dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                    agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
            try (AgentRuntime agent = AgentRuntime.start(agentConfig, Clock.systemUTC())) {
                Eventually.within(Duration.ofSeconds(30), () -> {
                    CliHarness.Result fetched = cli.run("agent", "api", "fetch", "x509", "--socket", agent.workloadApiSocket().toString());
                    assertThat(fetched.exitCode()).as(fetched.err()).isZero();
                    assertThat(fetched.out()).contains(WORKLOAD);
                });
            }
            CliHarness.Result alias = cli.run("entry", "show", "--socket", socket, "--spiffe-id", NODE, "--output", "json");
            JsonNode aliasEntry = json.readTree(alias.out()).path("entries").get(0);
            assertThat(aliasEntry.path("parent_id").asText()).isEqualTo("spiffe://example.org/sigil/server");
            assertThat(aliasEntry.path("owner").asText()).as("whoever generated the token").startsWith("local:");
            assertThat(aliasEntry.path("selectors").get(0).path("value").asText()).isEqualTo("id:" + token.path("id").asText());
        }
    }

    @Test
    void anAliasUnderTheReservedSigilPathIsRefused() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, "data_dir: %s\ntrust_domain: example.org\nlog_level: warn\nbundle_endpoint:\n  enabled: false\nagent_api:\n  port: 0\ntoken_endpoint:\n  enabled: false\n"
                .formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC())) {
            CliHarness.Result refused = new CliHarness(Map.of(), dir).run("token", "generate", "--socket", server.admin().socketPath().toString(),
                    "--spiffe-id", "spiffe://example.org/sigil/agent/join_token/mine");

            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.err()).contains("spiffe://example.org/sigil/agent/join_token/mine").contains("node alias").hasLineCount(1);
        }
    }
}
