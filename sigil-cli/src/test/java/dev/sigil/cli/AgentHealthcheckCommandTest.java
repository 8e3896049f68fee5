package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.observability.MetricsListener;
import dev.sigil.core.observability.MetricsListenerSettings;
import dev.sigil.core.observability.Readiness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil agent healthcheck} against the agent's metrics listener, over a real socket. */
@Timeout(30)
class AgentHealthcheckCommandTest {
    @TempDir
    Path dir;

    @Test
    void readyAgentExitsZeroAndNotReadyAgentExitsOneWithItsReason() {
        AtomicReference<Readiness> readiness = new AtomicReference<>(new Readiness.Ready());
        try (MetricsListener listener = MetricsListener.start("agent", new MetricsListenerSettings("127.0.0.1", 0, Optional.empty()),
                () -> "", readiness::get)) {
            String address = "127.0.0.1:" + listener.address().getPort();
            CliHarness.Result ready = new CliHarness(Map.of(), dir).run("agent", "healthcheck", "--address", address);
            assertThat(ready.exitCode()).as(ready.err()).isZero();
            assertThat(ready.out()).isEqualTo("agent is ready\n");

            readiness.set(new Readiness.NotReady("no successful sync with the server in the last 30s"));
            CliHarness.Result notReady = new CliHarness(Map.of(), dir).run("agent", "healthcheck", "--address", address);
            assertThat(notReady.exitCode()).isEqualTo(1);
            assertThat(notReady.err()).contains("agent is not ready (http 503)", "no successful sync with the server");
            CliHarness.Result live = new CliHarness(Map.of(), dir).run("agent", "healthcheck", "--address", address, "--shallow");
            assertThat(live.exitCode()).isZero();
            assertThat(live.out()).isEqualTo("agent is live\n");
        }
    }

    @Test
    void listenerIsFoundThroughTheAgentsConfigurationFile() throws Exception {
        try (MetricsListener listener = MetricsListener.start("agent", new MetricsListenerSettings("127.0.0.1", 0, Optional.empty()),
                () -> "", Readiness.Ready::new)) {
            Path config = dir.resolve("agent.yaml");
            Files.writeString(config, """
                    trust_domain: example.org
                    insecure_bootstrap: true
                    data_dir: %s
                    metrics:
                      port: %d
                    """.formatted(dir.resolve("agent"), listener.address().getPort()));
            CliHarness.Result result = new CliHarness(Map.of("SIGIL_JOIN_TOKEN", "unused"), dir)
                    .run("agent", "healthcheck", "--config", config.toString());
            assertThat(result.exitCode()).as(result.err()).isZero();
            assertThat(result.out()).isEqualTo("agent is ready\n");
        }
    }

    @Test
    void agentWithoutAListenerIsReportedAsUnreachable() throws Exception {
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("agent", "healthcheck", "--address", "127.0.0.1:" + port);
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("cannot reach the agent's health endpoint");
    }
}
