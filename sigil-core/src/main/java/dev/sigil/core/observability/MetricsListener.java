package dev.sigil.core.observability;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The opt-in metrics and health listener of a server or agent (docs/observability.md):
 * {@code GET /metrics} (Prometheus text format), {@code GET /healthz/live} (200 while the process
 * answers) and {@code GET /healthz/ready} (200, or 503 with the reason). Nothing else is served, and
 * nothing it serves is secret or attacker-controlled: metric label values are bounded by the
 * registries that feed it, readiness reasons are written by Sigil.
 *
 * <p>Limits, like the other listeners: 8 worker threads, at most 64 connections (further clients wait
 * in the kernel's accept queue), a connection silent for 30 s is closed, request headers at most 8 KiB;
 * only GET is answered.
 */
public final class MetricsListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsListener.class);
    static final int MAX_CONNECTIONS = 64;
    static final long IDLE_TIMEOUT_MILLIS = 30_000;
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Server server;
    private final ServerConnector connector;
    private final MetricsListenerSettings settings;

    private MetricsListener(Server server, ServerConnector connector, MetricsListenerSettings settings) {
        this.server = server;
        this.connector = connector;
        this.settings = settings;
    }

    /**
     * Binds and starts the listener.
     *
     * @param name      the process, for thread names and log lines ({@code server} or {@code agent})
     * @param scrape    the current metrics in the Prometheus text format
     * @param readiness whether the process can do its job now; must be quick, an exception counts as not ready
     * @throws IllegalStateException when the address cannot be bound or the TLS files are unusable
     */
    public static MetricsListener start(String name, MetricsListenerSettings settings, Supplier<String> scrape,
                                        Supplier<Readiness> readiness) {
        Objects.requireNonNull(scrape, "scrape");
        Objects.requireNonNull(readiness, "readiness");
        QueuedThreadPool pool = new QueuedThreadPool(8, 2);
        pool.setName("sigil-" + name + "-metrics");
        pool.setReservedThreads(0);
        Server server = new Server(pool);
        server.setStopAtShutdown(false);
        server.setStopTimeout(2_000);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(8 * 1024);
        ServerConnector connector;
        if (settings.tls().isPresent()) {
            SecureRequestCustomizer secure = new SecureRequestCustomizer(false);
            secure.setSniHostCheck(false);
            http.addCustomizer(secure);
            connector = new ServerConnector(server, 1, 1, new SslConnectionFactory(ListenerTls.factory(settings.tls().get()), "http/1.1"),
                    new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        }
        connector.setHost(settings.address());
        connector.setPort(settings.port());
        connector.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, connector));
        server.setHandler(new MetricsHandler(scrape, readiness));
        MetricsListener listener = new MetricsListener(server, connector, settings);
        try {
            server.start();
        } catch (Exception e) {
            listener.close();
            throw new IllegalStateException("cannot start the " + name + " metrics listener on " + settings.address() + ":" + settings.port()
                    + ": " + e.getMessage() + " (set metrics.address and metrics.port to a free address)", e);
        }
        LOG.info("{} metrics listener on {}://{}:{}", name, settings.tls().isPresent() ? "https" : "http", settings.address(),
                connector.getLocalPort());
        return listener;
    }

    /** The bound address, with the real port when 0 was asked for. */
    public InetSocketAddress address() {
        return new InetSocketAddress(settings.address(), connector.getLocalPort());
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("metrics listener did not stop cleanly: {}", e.getMessage());
        }
    }

    private static final class MetricsHandler extends Handler.Abstract {
        private final Supplier<String> scrape;
        private final Supplier<Readiness> readiness;

        MetricsHandler(Supplier<String> scrape, Supplier<Readiness> readiness) {
            this.scrape = scrape;
            this.readiness = readiness;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!HttpMethod.GET.is(request.getMethod())) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET");
                return reply(response, callback, 405, "text/plain; charset=utf-8", "only GET is served here\n");
            }
            return switch (Request.getPathInContext(request)) {
                case "/metrics" -> reply(response, callback, 200, PROMETHEUS_TEXT, scrape.get());
                case "/healthz/live" -> reply(response, callback, 200, "application/json", "{\"live\":true}\n");
                case "/healthz/ready" -> ready(response, callback);
                default -> reply(response, callback, 404, "text/plain; charset=utf-8",
                        "not found; this listener serves /metrics, /healthz/live and /healthz/ready\n");
            };
        }

        private boolean ready(Response response, Callback callback) {
            Readiness outcome;
            try {
                outcome = readiness.get();
            } catch (RuntimeException e) {
                LOG.warn("readiness check failed: {}", e.toString());
                outcome = new Readiness.NotReady("the readiness check failed; see the log");
            }
            return switch (outcome) {
                case Readiness.Ready ready -> reply(response, callback, 200, "application/json", "{\"ready\":true}\n");
                case Readiness.NotReady notReady -> reply(response, callback, 503, "application/json",
                        "{\"ready\":false,\"reason\":\"" + jsonEscape(notReady.reason()) + "\"}\n");
            };
        }

        private static boolean reply(Response response, Callback callback, int status, String type, String body) {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, java.nio.ByteBuffer.wrap(bytes), callback);
            return true;
        }

        private static String jsonEscape(String text) {
            StringBuilder out = new StringBuilder(text.length());
            for (char c : text.toCharArray()) {
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20 || c == 0x7f) {
                    out.append(' ');
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }
}
