package dev.sigil.server.governance;

import static dev.sigil.server.governance.AdminCalls.call;
import static dev.sigil.server.governance.AdminCalls.findings;
import static dev.sigil.server.governance.AdminCalls.texts;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NHI4 with a real agent: a node attested with a join token (trust level 1) serves a production identity
 * that a policy rule wants at trust level 2. The inventory shows the agent, its attestor and the
 * identity's trust level and last served time from the SVID the agent fetched.
 */
class JoinTokenNodePostureTest {
    private static final String PROD = "spiffe://example.org/prod/api";

    @TempDir
    Path dir;

    @Test
    void aProductionIdentityOnAJoinTokenNodeIsInsecureAuthentication() throws Exception {
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
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC())) {
            call(server, "PUT", "/v1/policy", new ObjectMapper().writeValueAsString(Map.of("yaml", """
                    rules:
                      - name: prod-api-db
                        effect: allow
                        subject: {spiffe_id: "spiffe://example.org/prod/*", min_trust_level: 2}
                        actions: [credential:issue]
                        resources: ["postgresql:orders"]
                    """)));
            JsonNode token = call(server, "POST", "/v1/join-tokens", "{\"ttl\": 600}");
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            call(server, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "%s", "owner": "payments", "selectors": [{"type": "unix", "value": "uid:%d"}]}"""
                    .formatted(PROD, agentId, uid));
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
                Eventually.within(Duration.ofSeconds(30), () -> assertThat(agent.agent().cache().identityCount()).isPositive());
                JsonNode inventory = call(server, "GET", "/v1/inventory", null);
                JsonNode node = inventory.path("agents").get(0);
                assertThat(node.path("spiffe_id").asText()).isEqualTo(agentId);
                assertThat(node.path("attestor").asText()).isEqualTo("join_token");
                assertThat(node.path("trust_level").asInt()).isEqualTo(1);
                assertThat(node.path("entries").asInt()).isEqualTo(1);
                JsonNode identity = inventory.path("identities").get(0);
                assertThat(identity.path("trust_level").asInt()).isEqualTo(1);
                assertThat(identity.path("attestor").asText()).isEqualTo("join_token");
                Eventually.within(Duration.ofSeconds(10), () -> assertThat(call(server, "GET", "/v1/inventory", null)
                        .path("identities").get(0).path("last_served").asText()).isNotEmpty());

                JsonNode posture = call(server, "GET", "/v1/posture", null);

                List<JsonNode> joinToken = findings(posture, "nhi4.join_token_production");
                assertThat(joinToken).hasSize(1);
                assertThat(joinToken.get(0).path("severity").asText()).isEqualTo("high");
                assertThat(texts(joinToken.get(0).path("identities"))).containsExactly(PROD, agentId);
                List<JsonNode> below = findings(posture, "nhi4.trust_below_policy");
                assertThat(below).hasSize(1);
                assertThat(below.get(0).path("severity").asText()).isEqualTo("medium");
                assertThat(texts(below.get(0).path("identities"))).containsExactly(PROD);
                assertThat(below.get(0).path("detail").asText()).contains("prod-api-db").contains("trust level 2");
                assertThat(findings(posture, "nhi1.agent_gone")).isEmpty();
                assertThat(findings(posture, "nhi10.admin_minted")).isEmpty();
            }
        }
    }
}
