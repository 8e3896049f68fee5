package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.cli.server.SigilServerLauncher;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures a new user meets in the first minutes, each one clear line (or, for a CEL error, the
 * expression with its caret on lines of their own): no {@code null}, no exception class name, no
 * network library's errno text, no truncated parser message.
 */
class ErrorMessagesTest {
    @TempDir
    Path dir;

    private CliHarness cli(Map<String, String> env) {
        return new CliHarness(env, dir, new SigilServerLauncher(), action -> {
            throw new IllegalStateException("this test expects the command to fail before it runs");
        });
    }

    private static void assertClean(CliHarness.Result result) {
        assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
        assertThat(result.err()).startsWith("sigil: ").doesNotContain("null").doesNotContain("Exception")
                .doesNotContain("unexpected error").doesNotContain("(..)");
    }

    @Test
    void aDataDirectoryThatIsAFileIsNamedAsSuch() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");

        CliHarness.Result server = cli(Map.of()).run("server", "run", "--data-dir", file.toString());
        assertClean(server);
        assertThat(server.err()).contains(file + " exists and is not a directory").hasLineCount(1);

        CliHarness.Result dev = cli(Map.of()).run("dev", "--data-dir", file.toString(), "--bundle-port", "0", "--agent-api-port", "0",
                "--token-port", "0");
        assertClean(dev);
        assertThat(dev.err()).contains(file + " exists and is not a directory").hasLineCount(1);
    }

    @Test
    void aPortInUseIsNamedWithTheSettingToChange() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CliHarness.Result result = CompletableFuture.supplyAsync(() -> cli(Map.of()).run("server", "run", "--data-dir",
                    dir.resolve("data").toString(), "--log-level", "error", "--bundle-port", "0", "--token-port", "0",
                    "--agent-api-port", Integer.toString(busy.getLocalPort()))).get(60, TimeUnit.SECONDS);

            assertClean(result);
            assertThat(result.err()).contains("127.0.0.1:" + busy.getLocalPort()).contains("already in use")
                    .contains("agent_api").hasLineCount(1);
        }
    }

    @Test
    void aYamlSyntaxErrorIsShownWhole() throws Exception {
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, "trust_domain: example.org\nbundle_endpoint:\n  port: [8443\nlog_level: info\n");

        CliHarness.Result result = cli(Map.of()).run("server", "validate", "--config", config.toString());

        assertClean(result);
        assertThat(result.err()).contains(config.toString()).contains("while parsing a flow sequence")
                .contains("expected ',' or ']'").hasLineCount(1);
    }

    @Test
    void aCelErrorKeepsItsCaretUnderTheExpression() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, "data_dir: %s\nlog_level: warn\nbundle_endpoint:\n  enabled: false\nagent_api:\n  port: 0\ntoken_endpoint:\n  enabled: false\n"
                .formatted(dir.resolve("data")));
        try (SigilServer server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir),
                ConfigOverrides.none()), Clock.systemUTC())) {
            Path policy = Files.writeString(dir.resolve("policy.yaml"), """
                    rules:
                      - name: bad-cel
                        effect: allow
                        subject:
                          spiffe_id: spiffe://sigil.test/web
                        actions: [token:exchange]
                        resources: [https://api]
                        condition: request.trust_level >= "two"
                    """);

            CliHarness.Result result = new CliHarness(Map.of(), dir).run("policy", "apply", policy.toString(),
                    "--socket", server.admin().socketPath().toString());

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err()).startsWith("sigil: ").contains("line 8").contains("\n")
                    .containsPattern("(?m)^ *\\| *request\\.trust_level >= \"two\"$").containsPattern("(?m)^ *\\| *\\.*\\^$");
        }
    }
}
