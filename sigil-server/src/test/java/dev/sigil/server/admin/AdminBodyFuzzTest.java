package dev.sigil.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.http.ErrorCode;
import dev.sigil.testkit.Refusals;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.UrlEncoded;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Any admin API call (method, path, query and JSON body) against a real server's routes, stores and
 * exception mapping is either answered, or refused with a 4xx {@link ApiException} whose message is
 * presentable: never a 5xx for what is the caller's mistake. Calls go in process, past the transport
 * ({@link AdminServer#callInProcess}), so the fuzzer is fast. Input layout (text):
 * {@code METHOD /path[?query]}, a line feed, then the body. Inputs that once failed are kept under
 * {@code AdminBodyFuzzTestInputs/}.
 */
class AdminBodyFuzzTest {
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE");
    private static Path dir;
    private static SigilServer server;

    @BeforeAll
    static void start() throws Exception {
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "sigil-fuzz") : Files.createTempDirectory("sigil-fuzz");
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC());
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyCallIsAnsweredOrRefusedCleanly(byte[] input) throws Exception {
        String text = new String(input, StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        String requestLine = newline < 0 ? text : text.substring(0, newline);
        byte[] body = newline < 0 ? new byte[0] : text.substring(newline + 1).getBytes(StandardCharsets.UTF_8);
        int space = requestLine.indexOf(' ');
        String method = space < 0 ? "GET" : requestLine.substring(0, space);
        if (!METHODS.contains(method)) {
            return;
        }
        String target = requestLine.substring(space + 1);
        int question = target.indexOf('?');
        String path = question < 0 ? target : target.substring(0, question);
        Map<String, List<String>> query = question < 0 ? Map.of() : query(target.substring(question + 1));
        try {
            Reply reply = server.admin().callInProcess(method, path, query, body, Actor.LocalOperator.unknown());
            assertThat(reply.status()).isBetween(200, 299);
            if (reply.body().isPresent() && !(reply.body().get() instanceof PlainText)) {
                assertThat(ApiJson.shared().writeValueAsString(reply.body().get())).isNotEmpty();
            }
        } catch (ApiException e) {
            assertThat(e.code()).as(e.getMessage()).isNotIn(ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE);
            Refusals.assertPresentable(e, text); // a refusal may quote the path or a field of the body (clipped)
        }
    }

    /** The query as Jetty decodes it for the handler; a query it cannot decode never reaches a route. */
    private static Map<String, List<String>> query(String raw) {
        Fields fields = new Fields(true);
        try {
            UrlEncoded.decodeUtf8To(raw, fields);
        } catch (RuntimeException e) {
            return Map.of();
        }
        Map<String, List<String>> query = new LinkedHashMap<>();
        for (Fields.Field field : fields) {
            query.put(field.getName(), new ArrayList<>(field.getValues()));
        }
        return query;
    }
}
