package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.Eventually;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil dev --config FILE} with the postgresql broker against a real PostgreSQL: the dev
 * workload gets a working database login with {@code sigil credential get}, told only the socket and
 * {@code SIGIL_TOKEN_URL} (the audience is discovered from the token service), and a restart on the
 * same directory neither adds an entry nor issues another join token.
 */
class DevConfigEndToEndTest {
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void brokersConfiguredForDevServeTheDevWorkloadWithOnlyTheTokenUrlKnown() throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
        Path config = dir.resolve("dev.yaml");
        Files.writeString(config, "trust_domain: sigil.test\nlog_level: warn\n" + pg.brokersYaml(dir));
        Path env = dir.resolve("env");
        int tokenPort = ServerProcess.freePort();

        try (RunningDev dev = RunningDev.start(dir, "dev", "--config", config.toString(), "--data-dir", env.toString(),
                "--bundle-port", "0", "--agent-api-port", "0", "--token-port", Integer.toString(tokenPort))) {
            CliHarness workload = new CliHarness(Map.of("SPIFFE_ENDPOINT_SOCKET", "unix://" + env.resolve("public/api.sock"),
                    "SIGIL_TOKEN_URL", "https://127.0.0.1:" + tokenPort), dir);
            CliHarness.Result result = workload.run("credential", "get", "--broker", "postgresql", "--resource", "reports",
                    "--output", "json");

            assertThat(result.exitCode()).as(result.err()).isZero();
            JsonNode credential = json.readTree(result.out()).path("credential");
            try (Connection session = DriverManager.getConnection(credential.path("url").asText(),
                    credential.path("username").asText(), credential.path("password").asText());
                 Statement statement = session.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void aRestartOnTheSameDirectoryAddsNoEntryAndNoJoinToken() throws Exception {
        Path env = dir.resolve("env");
        String[] args = {"dev", "--data-dir", env.toString(), "--bundle-port", "0", "--agent-api-port", "0", "--token-port", "0"};
        try (RunningDev first = RunningDev.start(dir, args)) {
            assertThat(first.fetchX509()).contains("/dev/");
        }
        try (RunningDev second = RunningDev.start(dir, args)) {
            assertThat(second.fetchX509()).contains("/dev/");
            CliHarness admin = new CliHarness(Map.of(), dir);
            CliHarness.Result shown = admin.run("entry", "show", "--data-dir", env.resolve("server").toString(), "--output", "json");
            assertThat(json.readTree(shown.out()).path("entries")).as(shown.err()).hasSize(1);
            CliHarness.Result audit = admin.run("audit", "query", "--data-dir", env.resolve("server").toString(), "--output", "json");
            assertThat(audit.out().split("\"jointoken.create\"", -1)).as(audit.out() + audit.err()).hasSize(2);
        }
    }

    @Test
    void aTemporaryDirectoryIsRemovedOnExit() throws Exception {
        Path before;
        try (RunningDev dev = RunningDev.start(dir, "dev", "--bundle-port", "0", "--agent-api-port", "0", "--token-port", "0")) {
            before = dev.temporaryRoot();
            assertThat(before).exists();
        }
        assertThat(before).doesNotExist();
    }

    /** {@code sigil dev} in-process until closed (the stop signal). */
    private static final class RunningDev implements AutoCloseable {
        private final CountDownLatch stop = new CountDownLatch(1);
        private final CompletableFuture<CliHarness.Result> run;
        private final Path home;

        private RunningDev(Path home, String... args) {
            this.home = home;
            StopSignal signal = action -> {
                stop.await();
                action.run();
            };
            CliHarness harness = new CliHarness(Map.of("TMPDIR", home.resolve("tmp").toString()), home, new dev.sigil.cli.server.SigilServerLauncher(), signal);
            run = CompletableFuture.supplyAsync(() -> harness.run(args));
        }

        static RunningDev start(Path home, String... args) throws Exception {
            RunningDev dev = new RunningDev(home, args);
            Eventually.within(Duration.ofSeconds(40), () -> {
                assertThat(dev.run).as("dev ended early").isNotDone();
                assertThat(dev.socket()).isNotEmpty();
            });
            return dev;
        }

        /** The Workload API socket of the dev environment: under home/env, or the temporary directory made in home/tmp. */
        java.util.Optional<Path> socket() throws Exception {
            for (Path candidate : candidates()) {
                Path socket = candidate.resolve("public/api.sock");
                if (Files.exists(socket)) {
                    return java.util.Optional.of(socket);
                }
            }
            return java.util.Optional.empty();
        }

        private java.util.List<Path> candidates() throws Exception {
            java.util.List<Path> found = new java.util.ArrayList<>();
            found.add(home.resolve("env"));
            if (Files.isDirectory(home.resolve("tmp"))) {
                try (var temps = Files.list(home.resolve("tmp"))) {
                    temps.filter(p -> p.getFileName().toString().startsWith("sigil-dev-")).forEach(found::add);
                }
            }
            return found;
        }

        Path temporaryRoot() throws Exception {
            return socket().orElseThrow().getParent().getParent();
        }

        String fetchX509() throws Exception {
            CliHarness.Result fetched = new CliHarness(Map.of(), home).run("agent", "api", "fetch", "x509", "--socket", socket().orElseThrow().toString());
            assertThat(fetched.exitCode()).as(fetched.err()).isZero();
            return fetched.out();
        }

        @Override
        public void close() throws Exception {
            stop.countDown();
            CliHarness.Result result = run.get(30, TimeUnit.SECONDS);
            assertThat(result.exitCode()).as(result.err()).isZero();
        }
    }
}
