package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.cli.server.StopSignal;
import dev.sigil.cli.server.SigilServerLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerRunCommandTest {
    @TempDir
    Path dir;

    @Test
    void serverRunServesHealthOnTheDataDirSocketUntilStopped() throws Exception {
        Path dataDir = dir.resolve("data");
        Path socket = dataDir.resolve("admin/admin.sock");
        CountDownLatch stopRequested = new CountDownLatch(1);
        StopSignal stop = action -> {
            stopRequested.await();
            action.run();
        };
        CliHarness server = new CliHarness(Map.of("SIGIL_BUNDLE_PORT", "0", "SIGIL_AGENT_API_PORT", "0", "SIGIL_TOKEN_PORT", "0"), dir, new SigilServerLauncher(), stop);
        CompletableFuture<CliHarness.Result> run = CompletableFuture.supplyAsync(
                () -> server.run("server", "run", "--data-dir", dataDir.toString(), "--log-level", "warn"));
        for (int i = 0; i < 200 && !Files.exists(socket) && !run.isDone(); i++) {
            Thread.sleep(25);
        }
        assertThat(socket).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");

        CliHarness.Result health = new CliHarness(Map.of("SIGIL_DATA_DIR", dataDir.toString()), dir).run("healthcheck");
        assertThat(health.exitCode()).isZero();

        stopRequested.countDown();
        CliHarness.Result result = run.get(10, TimeUnit.SECONDS);
        assertThat(result.exitCode()).isZero();
        assertThat(result.err()).contains("sigil: server running for trust domain sigil.test; admin socket " + socket);
        assertThat(socket).doesNotExist();
    }

    @Test
    void invalidConfigurationIsOneLineAndExitOne() throws Exception {
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, "trust_domain: example.org\nbundle_endpont:\n  port: 1\n");
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("server", "run", "--config", config.toString());
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).startsWith("sigil: " + config + " line 2, column 1: unknown key 'bundle_endpont'; valid keys: ")
                .hasLineCount(1);
    }
}
