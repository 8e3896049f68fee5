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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workload exits through the real path: a server, a real agent, and {@code sigil} run as separate
 * processes that fetch from the Workload API and exit. A process that only fetched its X.509-SVID
 * leaves no {@code workload.drift} record; one that fetched a JWT-SVID (a live credential the server
 * tracks and can revoke) is recorded when it exits.
 */
class ExitDriftEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/billing/report-job";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void onlyTheExitOfAProcessHoldingACredentialIsRecorded() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC());
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD,
                    "parent_id", "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText(),
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing"));
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
                String socket = agent.workloadApiSocket().toString();

                long x509Only = sigilProcess("agent", "api", "fetch", "x509", "--socket", socket);
                long withJwt = sigilProcess("agent", "api", "fetch", "jwt", "--audience", "https://api.example", "--socket", socket);

                Eventually.within(Duration.ofSeconds(30), () -> assertThat(exitPids(admin)).contains(Long.toString(withJwt)));
                assertThat(exitPids(admin)).containsExactly(Long.toString(withJwt)).doesNotContain(Long.toString(x509Only));
            }
        }
    }

    private List<String> exitPids(AdminClient admin) {
        List<String> pids = new ArrayList<>();
        for (JsonNode record : admin.get("/v1/audit", Map.of("kind", List.of("drift"))).json().path("results")) {
            try {
                JsonNode details = json.readTree(record.path("details").asText());
                if ("exited".equals(details.path("reason").asText())) {
                    pids.add(details.path("pid").asText());
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new AssertionError(e);
            }
        }
        return pids;
    }

    /** Runs {@code sigil ARGS} as its own process (a workload that exits) and returns its pid once it has exited 0. */
    private long sigilProcess(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "sigil", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("sigil %s finished", String.join(" ", args)).isTrue();
        assertThat(process.exitValue()).as(Files.readString(log)).isZero();
        return process.pid();
    }
}
