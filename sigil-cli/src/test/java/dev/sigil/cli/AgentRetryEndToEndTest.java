package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.testkit.Eventually;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil agent run} started before its server, as happens when a node boots faster than the
 * control plane: the agent keeps trying (with backoff) and attests once the real server listens, then
 * serves the Workload API. A refusal (a join token the server never issued) still ends it at once.
 */
class AgentRetryEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/billing/report-job";

    @TempDir
    Path dir;

    @Test
    void anAgentStartedBeforeItsServerAttestsOnceTheServerListens() throws Exception {
        int agentApiPort = ServerProcess.freePort();
        Path serverConfig = serverConfig(agentApiPort);
        String joinToken;
        try (SigilServer server = start(serverConfig); AdminClient admin = new AdminClient(server.admin().socketPath())) {
            JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            joinToken = token.path("token").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD,
                    "parent_id", "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText(),
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing"));
            Files.writeString(dir.resolve("bundle.pem"), server.authority().bundle().x509AuthoritiesPem());
        }
        Path socket = dir.resolve("agent/public/api.sock");
        Path agentConfig = agentConfig(agentApiPort, socket);
        CountDownLatch stop = new CountDownLatch(1);
        CliHarness agentCli = new CliHarness(Map.of("SIGIL_JOIN_TOKEN", joinToken), dir, Main.defaultLauncher(), shutdown -> {
            stop.await();
            shutdown.run();
        });

        CompletableFuture<CliHarness.Result> agent;
        SigilServer server;
        // The port accepts a connection but no server answers yet: the agent's first attempt fails there.
        try (ServerSocket notYet = new ServerSocket(agentApiPort, 1, InetAddress.getLoopbackAddress())) {
            agent = CompletableFuture.supplyAsync(() -> agentCli.run("agent", "run", "--config", agentConfig.toString()));
            try (Socket attempt = notYet.accept()) {
                assertThat(attempt.isConnected()).isTrue();
            }
        }
        server = start(serverConfig);
        try {
            CliHarness workload = new CliHarness(Map.of(), dir);
            Eventually.within(Duration.ofSeconds(40), () -> {
                assertThat(agent).as("the agent keeps running").isNotDone();
                CliHarness.Result fetched = workload.run("agent", "api", "fetch", "x509", "--socket", socket.toString());
                assertThat(fetched.exitCode()).as(fetched.err()).isZero();
                assertThat(fetched.out()).contains(WORKLOAD);
            });
        } finally {
            stop.countDown();
            CliHarness.Result result = agent.get(30, TimeUnit.SECONDS);
            server.close();
            assertThat(result.exitCode()).as(result.err()).isZero();
        }
    }

    @Test
    void aRefusedJoinTokenStillEndsTheAgentAtOnceWithTheReason() throws Exception {
        int agentApiPort = ServerProcess.freePort();
        Path serverConfig = serverConfig(agentApiPort);
        try (SigilServer server = start(serverConfig)) {
            Files.writeString(dir.resolve("bundle.pem"), server.authority().bundle().x509AuthoritiesPem());
            CliHarness agentCli = new CliHarness(Map.of("SIGIL_JOIN_TOKEN", "never-issued-token"), dir);

            CliHarness.Result result = CompletableFuture.supplyAsync(() -> agentCli.run("agent", "run", "--config",
                    agentConfig(agentApiPort, dir.resolve("agent/public/api.sock")).toString())).get(30, TimeUnit.SECONDS);

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err()).startsWith("sigil: node attestation failed: ").contains("permission_denied")
                    .contains("generate a new one").hasLineCount(1);
        }
    }

    private Path serverConfig(int agentApiPort) throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: %d
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server"), agentApiPort));
        return file;
    }

    private SigilServer start(Path config) {
        return SigilServer.start(ServerConfigLoader.load(Optional.of(config), ConfigEnvironment.of(Map.of(), dir),
                ConfigOverrides.none()), Clock.systemUTC());
    }

    private Path agentConfig(int agentApiPort, Path socket) {
        Path file = dir.resolve("agent.yaml");
        try {
            Files.createDirectories(dir.resolve("agent-data"));
            Files.writeString(file, """
                    data_dir: %s
                    trust_domain: example.org
                    server_address: 127.0.0.1:%d
                    trust_bundle_path: %s
                    node_attestor:
                      type: join_token
                    workload_api:
                      socket_path: %s
                    sync_interval: 1s
                    log_level: info
                    """.formatted(dir.resolve("agent-data"), agentApiPort, dir.resolve("bundle.pem"), socket));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file;
    }
}
