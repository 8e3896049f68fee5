package dev.sigil.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.admin.ApiJson;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.client.transport.HttpClientConnectionFactory;
import org.eclipse.jetty.client.transport.HttpClientTransportDynamic;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Speaks HTTP/1.1 + JSON to the server's admin API over its Unix socket (Jetty's HttpClient, each
 * request sent over a Unix-domain {@link Transport.TCPUnix}). Every failure becomes a {@link CliException} whose message is
 * one line an operator can act on: the socket is missing, refused or not ours, or the server's own
 * {@code {"error":{...}}} message.
 */
public final class AdminClient implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

    private final Path socket;
    private final ObjectMapper json = ApiJson.newMapper();
    private HttpClient client;

    public AdminClient(Path socket) {
        this.socket = socket;
    }

    /** A successful answer: the HTTP status and the raw body (JSON, possibly empty for 204). */
    public record Answer(int status, String body, JsonNode json) {
    }

    public Answer get(String path, Map<String, List<String>> query) {
        return send(HttpMethod.GET, path + queryString(query), null);
    }

    public Answer get(String path) {
        return send(HttpMethod.GET, path, null);
    }

    public Answer post(String path, Object body) {
        return send(HttpMethod.POST, path, body);
    }

    public Answer put(String path, Object body) {
        return send(HttpMethod.PUT, path, body);
    }

    public Answer delete(String path) {
        return send(HttpMethod.DELETE, path, null);
    }

    private Answer send(HttpMethod method, String path, Object body) {
        Request request = client().newRequest("http://localhost" + path).method(method)
                .transport(new Transport.TCPUnix(socket))
                .headers(headers -> headers.put(HttpHeader.ACCEPT, "application/json"))
                .timeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (body != null) {
            try {
                request.body(new StringRequestContent("application/json", json.writeValueAsString(body), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new CliException("cannot encode the request as json: " + e.getOriginalMessage(), 1, e);
            }
        }
        ContentResponse response;
        try {
            response = new CompletableResponseListener(request, MAX_RESPONSE_BYTES).send().get(TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw unreachable(describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw unreachable("no answer within " + TIMEOUT.toSeconds() + "s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while waiting for the server", 130, e);
        }
        String text = response.getContentAsString();
        JsonNode node = parse(text, response.getStatus());
        if (response.getStatus() >= 400) {
            throw serverError(response.getStatus(), node);
        }
        return new Answer(response.getStatus(), text, node);
    }

    private JsonNode parse(String text, int status) {
        if (text == null || text.isEmpty()) {
            return json.nullNode();
        }
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CliException("the server answered http " + status + " with a body that is not json", 1, e);
        }
    }

    private static CliException serverError(int status, JsonNode body) {
        JsonNode error = body.path("error");
        String message = error.path("message").asText("");
        String code = error.path("code").asText("");
        if (message.isEmpty()) {
            return new CliException("the server answered http " + status + " without an error message");
        }
        // a CEL error's expression and caret go below the message, where the caret points at the column again
        List<String> lines = CelCarets.lines(message);
        String rest = lines.stream().skip(1).map(line -> "\n" + line).collect(java.util.stream.Collectors.joining());
        return new CliException(lines.get(0) + (code.isEmpty() ? "" : " (" + code + ")") + rest);
    }

    private CliException unreachable(String reason) {
        return unreachable(reason, null);
    }

    private CliException unreachable(String reason, Throwable cause) {
        return new CliException("cannot reach the server's admin socket at " + socket + ": " + reason, 1, cause);
    }

    private static String describe(Throwable failure) {
        String message = failure == null || failure.getMessage() == null ? "" : failure.getMessage().toLowerCase(Locale.ROOT);
        if (message.contains("refused")) {
            return "connection refused (is 'sigil server run' running? the socket file may be left over from a stopped server)";
        }
        if (message.contains("permission denied") || message.contains("access denied")) {
            return "permission denied (the admin socket is owner-only; run sigil as the user that runs the server)";
        }
        if (message.contains("no such file")) {
            return "no such file (is 'sigil server run' running?)";
        }
        if (failure instanceof TimeoutException) {
            return "no answer within " + TIMEOUT.toSeconds() + "s";
        }
        if (failure instanceof IOException && message.contains("closed")) {
            return "the server closed the connection before answering";
        }
        return failure == null ? "unknown error" : failure.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    static String queryString(Map<String, List<String>> query) {
        StringBuilder out = new StringBuilder();
        query.forEach((name, values) -> {
            for (String value : values) {
                out.append(out.isEmpty() ? '?' : '&')
                        .append(URLEncoder.encode(name, StandardCharsets.UTF_8)).append('=')
                        .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
            }
        });
        return out.toString();
    }

    private HttpClient client() {
        if (client == null) {
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                throw unreachable("no such file (is 'sigil server run' running?)");
            }
            QueuedThreadPool threads = new QueuedThreadPool(8, 1);
            threads.setName("sigil-cli");
            threads.setDaemon(true);
            ClientConnector connector = new PlainClientConnector();
            connector.setSelectors(1);
            HttpClient http = new HttpClient(new HttpClientTransportDynamic(connector, HttpClientConnectionFactory.HTTP11));
            http.setExecutor(threads);
            http.setUserAgentField(null);
            http.setConnectTimeout(5_000);
            try {
                http.start();
            } catch (Exception e) {
                throw new CliException("cannot start the http client: " + e.getMessage(), 1, e);
            }
            client = http;
        }
        return client;
    }

    /**
     * A connector for plain HTTP over the admin Unix socket, which never uses TLS: Jetty's own connector
     * builds and starts a TLS client context at start-up whether or not it is used, loading the JDK's trust
     * store and crypto providers, about half the run time of a short command such as {@code sigil entry show}.
     * Its context here refuses to start, so a TLS use would fail loudly instead of trusting anything.
     */
    private static final class PlainClientConnector extends ClientConnector {
        @Override
        protected SslContextFactory.Client newSslContextFactory() {
            return new UnusedTls();
        }
    }

    private static final class UnusedTls extends SslContextFactory.Client {
        @Override
        protected void doStart() {
            // not started: the admin client speaks plain HTTP over a Unix socket only
        }

        @Override
        public javax.net.ssl.SSLEngine newSSLEngine(String host, int port) {
            throw new IllegalStateException("the admin client does not use tls (plain http over a unix socket)");
        }
    }

    @Override
    public void close() {
        if (client != null) {
            try {
                client.stop();
            } catch (Exception e) {
                // nothing useful to do while exiting
            }
        }
    }
}
