package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.cli.server.SigilServerLauncher;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.testkit.Eventually;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new user runs into first, each through the CLI against a running server: mistakes are refused
 * with the valid forms (never silently accepted), machine output is machine-readable, and a capped
 * lifetime is said, not hidden.
 */
class NewcomerRoughEdgesTest {
    private static final String NODE = "spiffe://sigil.test/sigil/agent/join_token/0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;
    private SigilServer server;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, "data_dir: %s\nlog_level: warn\nbundle_endpoint:\n  enabled: false\nagent_api:\n  port: 0\ntoken_endpoint:\n  enabled: false\n"
                .formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(server.admin().socketPath().toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    private int entryCount() throws Exception {
        return json.readTree(sigil("entry", "show", "--output", "json").out()).path("entries").size();
    }

    @Test
    void ownerIsShownAsRequiredAndItsAbsenceIsAUsageError() throws Exception {
        CliHarness.Result help = new CliHarness(Map.of(), dir).run("entry", "create", "--help");
        assertThat(help.out()).contains(" --owner=OWNER").doesNotContain("[--owner=OWNER]");

        CliHarness.Result missing = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "unix:uid:1000");

        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("--owner");
        assertThat(entryCount()).isZero();
    }

    @Test
    void selectorsNoAttestorProducesAreRefusedWithTheValidForms() throws Exception {
        CliHarness.Result typeless = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "uid:5", "--owner", "team-web");
        assertThat(typeless.exitCode()).isEqualTo(2);
        assertThat(typeless.err()).contains("'uid:5'").contains("did you mean 'unix:uid:5'");

        CliHarness.Result notANumber = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "unix:uid:abc", "--owner", "team-web");
        assertThat(notANumber.exitCode()).isEqualTo(2);
        assertThat(notANumber.err()).contains("'unix:uid:abc'").contains("unix:uid:1000");

        CliHarness.Result unknownKey = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "unix:pid:12", "--owner", "team-web");
        assertThat(unknownKey.exitCode()).isEqualTo(2);
        assertThat(unknownKey.err()).contains("valid forms:").contains("unix:gid:1000");
        assertThat(entryCount()).isZero();

        CliHarness.Result valid = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "unix:uid:1000", "--selector", "k8s:ns:payments", "--owner", "team-web");
        assertThat(valid.exitCode()).as(valid.err()).isZero();
    }

    @Test
    void anUnknownAuditKindIsRefusedListingTheValidKinds() {
        CliHarness.Result result = sigil("audit", "query", "--kind", "nosuch");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("audit kind 'nosuch' is unknown; valid kinds: agent, authority, credential, drift, entry")
                .hasLineCount(1);
        assertThat(sigil("audit", "query", "--kind", "entry").exitCode()).isZero();
    }

    @Test
    void auditJsonCarriesDetailsAsAnObject() throws Exception {
        assertThat(sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", NODE,
                "--selector", "unix:uid:1000", "--owner", "team-web").exitCode()).isZero();

        JsonNode records = json.readTree(sigil("audit", "query", "--kind", "entry", "--output", "json").out()).path("results");

        assertThat(records).isNotEmpty();
        assertThat(records.get(0).path("details").isObject()).as(records.get(0).toString()).isTrue();
        assertThat(records.get(0).path("details").path("spiffe_id").asText()).isEqualTo("spiffe://sigil.test/web");
    }

    @Test
    void policyTestWritesJsonOnRequest() throws Exception {
        Path fixtures = Path.of("../docs/examples/policy-tests").toAbsolutePath().normalize();

        CliHarness.Result result = new CliHarness(Map.of(), dir).run("policy", "test", fixtures.toString(), "--output", "json");

        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode summary = json.readTree(result.out());
        assertThat(summary.path("failed").asInt()).isZero();
        assertThat(summary.path("passed").asInt()).isEqualTo(summary.path("results").size()).isPositive();
        assertThat(summary.path("results").get(0).path("passed").asBoolean()).isTrue();
    }

    @Test
    void aLifetimeAboveTheCapIsSaidOnStderr() {
        CliHarness.Result minted = sigil("x509", "mint", "--spiffe-id", "spiffe://sigil.test/web", "--ttl", "1000h",
                "--write", dir.resolve("svid").toString());

        assertThat(minted.exitCode()).as(minted.err()).isZero();
        assertThat(minted.err()).startsWith("sigil: warning: the x509-svid ttl was capped: asked for 1000h, granted about ")
                .hasLineCount(1);
        assertThat(sigil("x509", "mint", "--spiffe-id", "spiffe://sigil.test/web", "--ttl", "10m",
                "--write", dir.resolve("svid2").toString()).err()).isEmpty();
    }

    @Test
    void serverValidateChecksAConfigurationWithoutStartingAnything() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "trust_domain: example.org\ndata_dir: %s\n".formatted(dir.resolve("never-created")));
        CliHarness.Result ok = new CliHarness(Map.of(), dir).run("server", "validate", "--config", good.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("config OK");
        assertThat(dir.resolve("never-created")).doesNotExist();

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "trust_domain: example.org\nbrokers:\n  postgresql:\n    url: jdbc:postgresql://db/app\n    admin_usr: x\n");
        CliHarness.Result refused = new CliHarness(Map.of(), dir).run("server", "validate", "--config", bad.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).startsWith("sigil: ").contains("admin_usr").hasLineCount(1);
    }

    @Test
    void serverRunTakesPortFlags() throws Exception {
        int agentApiPort = ServerProcess.freePort();
        Path dataDir = dir.resolve("flags");
        CountDownLatch stop = new CountDownLatch(1);
        StopSignal signal = action -> {
            stop.await();
            action.run();
        };
        CliHarness cli = new CliHarness(Map.of(), dir, new SigilServerLauncher(), signal);
        CompletableFuture<CliHarness.Result> run = CompletableFuture.supplyAsync(() -> cli.run("server", "run", "--data-dir",
                dataDir.toString(), "--log-level", "warn", "--bundle-port", "0", "--token-port", "0",
                "--agent-api-port", Integer.toString(agentApiPort)));
        try {
            Eventually.within(Duration.ofSeconds(30), () -> {
                assertThat(run).isNotDone();
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", agentApiPort), 1000);
                }
            });
        } finally {
            stop.countDown();
        }
        CliHarness.Result result = run.get(30, TimeUnit.SECONDS);
        assertThat(result.exitCode()).as(result.err()).isZero();
    }
}
