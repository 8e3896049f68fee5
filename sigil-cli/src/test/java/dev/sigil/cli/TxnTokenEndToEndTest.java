package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
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
 * {@code sigil credential txn} through the real path: a server with a stored policy, a real agent
 * attested with a join token serving this test's uid, and the CLI run as that workload — it authenticates
 * with its X.509-SVID over mutual TLS, starts a transaction with its own JWT-SVID, and then replaces the
 * transaction token it got, narrowing the scope.
 */
class TxnTokenEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/orders/gateway";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aWorkloadStartsAndNarrowsATransactionWithTheCliUnderAStoredPolicy() throws Exception {
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
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC());
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            admin.put("/v1/policy", Map.of("yaml", """
                    rules:
                      - name: gateway-starts-transactions
                        effect: allow
                        subject:
                          spiffe_id: %s
                        actions: [token:txn]
                        resources: [example.org]
                        obligations:
                          scopes: [orders.read, orders.create]
                    """.formatted(WORKLOAD)));
            JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD, "parent_id", agentId,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-orders"));
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
                String tokenUrl = "https://127.0.0.1:" + server.tokenEndpointAddress().orElseThrow().getPort();

                CliHarness.Result started = new CliHarness(Map.of(), dir).run("credential", "txn", "--scope", "orders.read orders.create",
                        "--details", "{\"order\":\"42\"}", "--socket", agent.workloadApiSocket().toString(), "--server", tokenUrl,
                        "--audience", server.tokenAudience(), "--output", "json");
                assertThat(started.exitCode()).as(started.err()).isZero();
                JsonNode answer = json.readTree(started.out());
                assertThat(answer.path("issued_token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:txn_token");
                String txn = answer.path("access_token").asText();
                JWTClaimsSet claims = SignedJWT.parse(txn).getJWTClaimsSet();
                assertThat(claims.getSubject()).isEqualTo(WORKLOAD);
                assertThat(claims.getStringClaim("req_wl")).isEqualTo(WORKLOAD);
                assertThat(claims.getJSONObjectClaim("rctx")).containsEntry("authn", "x509-svid");
                assertThat(claims.getJSONObjectClaim("tctx")).containsEntry("order", "42");

                Path saved = dir.resolve("txn.jwt");
                Files.writeString(saved, txn + "\n");
                CliHarness.Result narrowed = new CliHarness(Map.of(), dir).run("credential", "txn", "--scope", "orders.read",
                        "--subject-token-file", saved.toString(), "--subject-token-type", "txn_token",
                        "--socket", agent.workloadApiSocket().toString(), "--server", tokenUrl, "--output", "json");
                assertThat(narrowed.exitCode()).as(narrowed.err()).isZero();
                JWTClaimsSet replaced = SignedJWT.parse(json.readTree(narrowed.out()).path("access_token").asText()).getJWTClaimsSet();
                assertThat(replaced.getStringClaim("txn")).isEqualTo(claims.getStringClaim("txn"));
                assertThat(replaced.getStringClaim("scope")).isEqualTo("orders.read");
                assertThat(replaced.getStringListClaim("req_wl")).containsExactly(WORKLOAD, WORKLOAD);

                // the stored policy grants no other purpose: refused with the policy's reason, exit non-zero
                CliHarness.Result refused = new CliHarness(Map.of(), dir).run("credential", "txn", "--scope", "orders.delete",
                        "--socket", agent.workloadApiSocket().toString(), "--server", tokenUrl, "--audience", server.tokenAudience());
                assertThat(refused.exitCode()).isNotZero();
                assertThat(refused.err()).contains("the token service refused").contains("orders.delete");
                assertThat(refused.err()).doesNotContain("Exception");
            }
        }
    }
}
