package dev.sigil.server.admin;

import dev.sigil.core.SigilException;
import dev.sigil.server.http.HttpServers;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TlsMaterial;
import dev.sigil.server.tls.TrustBundleSource;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API transport: one small Jetty server with
 * <ul>
 *   <li>a Unix domain socket (always): mode 0600 from the moment it is reachable (see
 *       {@link OwnerOnlyUnixConnector}), in a directory created 0700; whoever can connect is the
 *       local operator, so the file permissions are the authentication;</li>
 *   <li>optionally a TCP listener with mutual TLS: a client certificate is required, must be an
 *       X.509-SVID chaining to the trust bundle, and its SPIFFE ID must pass the
 *       {@link AdminAuthorizer}; there is no unauthenticated path over TCP.</li>
 * </ul>
 * Every response, including every error, is JSON. {@code GET /v1/health} and
 * {@code GET /v1/health/live} are built in.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    public static final long DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_THREADS = 16;

    /** Where and how the admin API listens. */
    public record Options(Path socketPath, Optional<MutualTlsListener> tcp, long maxBodyBytes, int maxThreads) {
        public Options {
            Objects.requireNonNull(socketPath, "socketPath");
            Objects.requireNonNull(tcp, "tcp");
            socketPath = socketPath.toAbsolutePath().normalize();
            if (maxBodyBytes < 1) {
                throw new IllegalArgumentException("maximum request body size must be positive, got " + maxBodyBytes);
            }
        }

        /** The Unix socket only, with the default body limit (1 MiB) and thread pool (16). */
        public static Options unixSocket(Path socketPath) {
            return new Options(socketPath, Optional.empty(), DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_THREADS);
        }

        public Options withTcp(MutualTlsListener listener) {
            return new Options(socketPath, Optional.of(listener), maxBodyBytes, maxThreads);
        }

        public Options withMaxBodyBytes(long bytes) {
            return new Options(socketPath, tcp, bytes, maxThreads);
        }
    }

    /** The mutual-TLS TCP listener: address (port 0 picks a free one), server identity, client trust, admin check. */
    public record MutualTlsListener(InetSocketAddress address, TlsMaterial serverIdentity, TrustBundleSource trustBundle,
                                    AdminAuthorizer authorizer) {
        public MutualTlsListener {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(serverIdentity, "serverIdentity");
            Objects.requireNonNull(trustBundle, "trustBundle");
            Objects.requireNonNull(authorizer, "authorizer");
        }
    }

    private final Options options;
    private final Server server;
    private final ServerConnector tcpConnector;
    private final AdminHandler handler;

    private AdminServer(Options options, Server server, ServerConnector tcpConnector, AdminHandler handler) {
        this.options = options;
        this.server = server;
        this.tcpConnector = tcpConnector;
        this.handler = handler;
    }

    /** Builds the server; nothing listens until {@link #start()}. */
    public static AdminServer create(Options options, AdminApi api, Clock clock) {
        return create(options, api, clock, dev.sigil.server.http.RequestObserver.NONE);
    }

    /** Also telling {@code observer} of every request, by route pattern (such as {@code /v1/entries/{id}}). */
    public static AdminServer create(Options options, AdminApi api, Clock clock, dev.sigil.server.http.RequestObserver observer) {
        Objects.requireNonNull(clock, "clock");
        Routes routes = HealthRoutes.with(api.routes(), api.readiness());
        AdminAuthorizer authorizer = options.tcp().map(MutualTlsListener::authorizer).orElse(AdminAuthorizer.denyAll());
        AdminHandler handler = new AdminHandler(routes, api.exceptionMapper(), authorizer, options.maxBodyBytes(), clock, api.console());

        Server server = HttpServers.newServer("sigil-admin", options.maxThreads());
        Path socket = options.socketPath();
        OwnerOnlyUnixConnector unix = new OwnerOnlyUnixConnector(server, socket,
                new HttpConnectionFactory(HttpServers.httpConfiguration()));
        unix.setIdleTimeout(30_000);
        server.addConnector(unix);
        handler.trustUnixConnector(unix);

        ServerConnector tcp = null;
        if (options.tcp().isPresent()) {
            MutualTlsListener listener = options.tcp().get();
            HttpConfiguration https = HttpServers.httpConfiguration();
            SecureRequestCustomizer secure = new SecureRequestCustomizer(false);
            secure.setSniHostCheck(false);
            https.addCustomizer(secure);
            tcp = new ServerConnector(server, 1, 1,
                    new SslConnectionFactory(ServerTls.mutual(listener.serverIdentity(), listener.trustBundle(), clock), "http/1.1"),
                    new HttpConnectionFactory(https));
            tcp.setHost(listener.address().getHostString());
            tcp.setPort(listener.address().getPort());
            tcp.setIdleTimeout(dev.sigil.server.http.ListenerLimits.DEFAULTS.idleTimeout().toMillis());
            server.addConnector(tcp);
            server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(
                    dev.sigil.server.http.ListenerLimits.DEFAULTS.maxConnections(), tcp));
        }
        server.setHandler(dev.sigil.server.http.ObservedHandler.wrap(handler, observer, routes::template));
        return new AdminServer(options, server, tcp, handler);
    }

    /** Binds the listeners; fails with a clear message when the socket is in use or cannot be secured. */
    public void start() {
        UnixSocketGuard.prepare(options.socketPath());
        try {
            server.start();
        } catch (SigilException e) {
            stopQuietly();
            throw e;
        } catch (Exception e) {
            stopQuietly();
            String where = tcpConnector == null ? options.socketPath().toString()
                    : options.socketPath() + " and " + options.tcp().orElseThrow().address();
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root instanceof SigilException sigil) {
                throw sigil;
            }
            throw new SigilException("cannot start the admin api on " + where + ": "
                    + (root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage()), e);
        }
        LOG.info("admin api listening on unix socket {}{}", options.socketPath(),
                tcpAddress().map(address -> " and mutual tls " + address.getHostString() + ":" + address.getPort()).orElse(""));
    }

    public Path socketPath() {
        return options.socketPath();
    }

    /** The bound TCP address (with the real port when 0 was asked for); empty without a TCP listener. */
    public Optional<InetSocketAddress> tcpAddress() {
        if (tcpConnector == null) {
            return Optional.empty();
        }
        return Optional.of(new InetSocketAddress(options.tcp().orElseThrow().address().getAddress(), tcpConnector.getLocalPort()));
    }

    /**
     * Answers a call as the listeners would once the caller is known and the request read: routing, the
     * route handler and the mapping of its exceptions. For in-process tests that need many calls fast;
     * an {@link ApiException} is an error response, any other exception would be a 500.
     */
    Reply callInProcess(String method, String decodedPath, Map<String, List<String>> query, byte[] body, Actor actor) {
        return handler.call(method, decodedPath, query, body, actor);
    }

    /** Stops listening and removes the socket file. Idempotent. */
    @Override
    public void close() {
        stopQuietly();
    }

    private void stopQuietly() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("admin api did not stop cleanly: {}", e.getMessage());
        }
    }
}
