package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.cli.server.SigilServerLauncher;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.testkit.Eventually;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil console} against a running server: it prints a loopback login link, the link opens a
 * session through the forwarded port once, and Ctrl-C closes the port.
 */
@Timeout(30)
class ConsoleCommandTest {
    private static final Pattern LINK = Pattern.compile("Console: (http://127\\.0\\.0\\.1:(\\d+)/console/login\\?code=[A-Za-z0-9_-]{43})");

    @TempDir
    Path dir;

    @Test
    void theLinkOpensOneSessionThroughTheLoopbackPortUntilCtrlC() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                """.formatted(dir.resolve("data")));
        try (SigilServer server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir),
                ConfigOverrides.none()), Clock.systemUTC(), SigilServer.Options.defaults())) {
            StringWriter out = new StringWriter();
            CountDownLatch ctrlC = new CountDownLatch(1);
            CliContext context = new CliContext(ConfigEnvironment.of(Map.of(), dir), new PrintWriter(out, true), new PrintWriter(new StringWriter()),
                    new SigilServerLauncher(), stop -> {
                        ctrlC.await();
                        stop.run();
                    });
            CompletableFuture<Integer> console = CompletableFuture.supplyAsync(() ->
                    Main.run(new String[] {"console", "--socket", server.admin().socketPath().toString()}, context));

            Matcher link = LINK.matcher("");
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(LINK.matcher(out.toString()).find()).as(out.toString()).isTrue());
            link = LINK.matcher(out.toString());
            assertThat(link.find()).isTrue();
            HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

            HttpResponse<String> redeemed = http.send(HttpRequest.newBuilder(URI.create(link.group(1))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(redeemed.statusCode()).isEqualTo(303);
            String cookie = redeemed.headers().firstValue("set-cookie").orElseThrow().split(";", 2)[0];
            String base = "http://127.0.0.1:" + link.group(2);
            HttpResponse<String> overview = http.send(HttpRequest.newBuilder(URI.create(base + "/console/")).header("Cookie", cookie).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(overview.statusCode()).isEqualTo(200);
            assertThat(overview.body()).contains("<h1>Overview</h1>");
            assertThat(http.send(HttpRequest.newBuilder(URI.create(link.group(1))).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .as("the same link again").isEqualTo(403);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/console/")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .as("the port without the session").isEqualTo(401);

            ctrlC.countDown();
            assertThat(console.get(10, TimeUnit.SECONDS)).isZero();
            int port = Integer.parseInt(link.group(2));
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        }
    }
}
