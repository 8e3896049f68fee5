package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.ExceptionMapper;
import dev.sigil.server.admin.ReadinessCheck;
import dev.sigil.server.admin.Routes;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthcheckCommandTest {
    @TempDir
    Path dir;

    private AdminServer serve(Path socket, ReadinessCheck readiness) {
        AdminServer server = AdminServer.create(AdminServer.Options.unixSocket(socket),
                new AdminApi(Routes.builder().build(), readiness, ExceptionMapper.none()), Clock.systemUTC());
        server.start();
        return server;
    }

    @Test
    void healthyServerFoundThroughTheDataDirExitsZero() {
        Path dataDir = dir.resolve("data");
        try (AdminServer server = serve(dataDir.resolve("admin/admin.sock"), ReadinessCheck.alwaysReady())) {
            assertThat(server.socketPath()).isEqualTo(dataDir.resolve("admin/admin.sock"));
            CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--data-dir", dataDir.toString());
            assertThat(result.exitCode()).isZero();
            assertThat(result.out()).isEqualTo("server is healthy\n");
            assertThat(result.err()).isEmpty();
        }
    }

    @Test
    void socketIsFoundThroughSigilDataDirLikeTheServerDoes() {
        Path dataDir = dir.resolve("env-data");
        try (AdminServer server = serve(dataDir.resolve("admin/admin.sock"), ReadinessCheck.alwaysReady())) {
            CliHarness.Result result = new CliHarness(Map.of("SIGIL_DATA_DIR", dataDir.toString()), dir).run("healthcheck");
            assertThat(server.socketPath()).startsWith(dataDir);
            assertThat(result.exitCode()).isZero();
        }
    }

    @Test
    void jsonOutputIsTheServersAnswer() {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = serve(socket, ReadinessCheck.alwaysReady())) {
            CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--socket", server.socketPath().toString(), "--output", "json");
            assertThat(result.exitCode()).isZero();
            assertThat(result.out()).isEqualToIgnoringWhitespace("{\"live\" : true, \"ready\" : true}");
        }
    }

    @Test
    void notReadyServerIsOneLineOnStderrAndExitOne() {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = serve(socket, () -> new ReadinessCheck.Readiness.NotReady("datastore unreachable"))) {
            CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--socket", server.socketPath().toString());
            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.out()).isEmpty();
            assertThat(result.err()).isEqualTo("sigil: server is not ready: datastore unreachable (unavailable)\n");
            CliHarness.Result shallow = new CliHarness(Map.of(), dir).run("healthcheck", "--shallow", "--socket", socket.toString());
            assertThat(shallow.exitCode()).isZero();
            assertThat(shallow.out()).isEqualTo("server is live\n");
        }
    }

    @Test
    void missingSocketIsOneClearLineAndExitOne() {
        Path socket = dir.resolve("x/admin.sock");
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--socket", socket.toString());
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: cannot reach the server's admin socket at " + socket
                + ": no such file (is 'sigil server run' running?)\n");
    }

    @Test
    void staleSocketIsReportedAsRefusedWithoutAStackTrace() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--socket", socket.toString());
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).startsWith("sigil: cannot reach the server's admin socket at " + socket + ": connection refused")
                .hasLineCount(1);
    }

    @Test
    void debugAddsTheStackTrace() {
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("healthcheck", "--socket", dir.resolve("none.sock").toString(), "--debug");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("CliException").contains("\tat ");
    }
}
