package dev.sigil.server.endpoint;

import dev.sigil.core.SigilException;
import dev.sigil.server.http.HttpServers;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TlsMaterial;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPIFFE bundle endpoint and OIDC discovery document: an HTTPS listener (TLS 1.3/1.2, no client
 * authentication) serving only public material, for federated trust domains and JWT relying parties.
 * With the https_spiffe profile the server presents its own SVID ({@link TlsMaterial} from the
 * authority); with https_web, a certificate from a public CA ({@link TlsMaterial#fromPemFiles}).
 * There is no plain-HTTP mode.
 */
public final class BundleEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BundleEndpoint.class);
    public static final int DEFAULT_MAX_THREADS = 8;

    /** Where to listen (port 0 picks a free port), the refresh hint that bounds caching, and the JWT issuer. */
    public record Options(InetSocketAddress address, Duration refreshHint, URI issuer, int maxThreads) {
        public Options {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(refreshHint, "refreshHint");
            Objects.requireNonNull(issuer, "issuer");
            if (refreshHint.isNegative() || refreshHint.isZero()) {
                throw new IllegalArgumentException("bundle refresh hint must be positive, got " + refreshHint);
            }
            if (!"https".equals(issuer.getScheme()) || issuer.getHost() == null || issuer.getQuery() != null || issuer.getFragment() != null) {
                throw new IllegalArgumentException("jwt issuer '" + issuer + "' must be an https url with a host and no query or fragment");
            }
        }

        public static Options of(InetSocketAddress address, Duration refreshHint, URI issuer) {
            return new Options(address, refreshHint, issuer, DEFAULT_MAX_THREADS);
        }
    }

    private final Options options;
    private final Server server;
    private final ServerConnector connector;

    private BundleEndpoint(Options options, Server server, ServerConnector connector) {
        this.options = options;
        this.server = server;
        this.connector = connector;
    }

    public static BundleEndpoint create(Options options, TlsMaterial tls, PublicMaterial material) {
        return create(options, tls, material, java.util.Optional.empty());
    }

    /**
     * With {@code bound}, a listening channel already bound to the endpoint's address: the endpoint accepts on
     * it instead of binding (the port was chosen before the issuer URL that names it was built).
     */
    public static BundleEndpoint create(Options options, TlsMaterial tls, PublicMaterial material,
                                        java.util.Optional<java.nio.channels.ServerSocketChannel> bound) {
        return create(options, tls, material, bound, dev.sigil.server.http.RequestObserver.NONE);
    }

    /** Also telling {@code observer} of every request, by route template ({@link #route}). */
    public static BundleEndpoint create(Options options, TlsMaterial tls, PublicMaterial material,
                                        java.util.Optional<java.nio.channels.ServerSocketChannel> bound,
                                        dev.sigil.server.http.RequestObserver observer) {
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(material, "material");
        Server server = HttpServers.newServer("sigil-bundle", options.maxThreads());
        HttpConfiguration https = HttpServers.httpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer(false);
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, 1, 1,
                new SslConnectionFactory(ServerTls.serverOnly(tls), "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(options.address().getHostString());
        connector.setPort(options.address().getPort());
        connector.setIdleTimeout(dev.sigil.server.http.ListenerLimits.DEFAULTS.idleTimeout().toMillis());
        server.addConnector(connector);
        // unauthenticated and public: GETs only (headers are read without a worker), and a bounded
        // number of connections, so slow clients cannot hold the listener (ListenerLimits)
        server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(
                dev.sigil.server.http.ListenerLimits.DEFAULTS.maxConnections(), connector));
        server.setHandler(dev.sigil.server.http.ObservedHandler.wrap(
                new BundleEndpointHandler(material, options.refreshHint(), options.issuer()), observer, BundleEndpoint::route));
        if (bound.isPresent()) {
            try {
                connector.open(bound.get());
            } catch (java.io.IOException e) {
                throw new SigilException("cannot listen on the bound bundle endpoint channel: " + e.getMessage(), e);
            }
        }
        return new BundleEndpoint(options, server, connector);
    }

    public void start() {
        try {
            server.start();
        } catch (Exception e) {
            close();
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new SigilException("cannot start the bundle endpoint on " + options.address().getHostString() + ":"
                    + options.address().getPort() + ": " + (root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage())
                    + " (set bundle_endpoint.port or SIGIL_BUNDLE_PORT to another port)", e);
        }
        LOG.info("bundle endpoint listening on https://{}:{}", options.address().getHostString(), connector.getLocalPort());
    }

    /** The route template of a request path, for metrics: one of the endpoint's paths, or {@code other}. */
    static String route(String path) {
        if (path.startsWith("/statuslists/")) {
            return "/statuslists/{index}";
        }
        return switch (path) {
            case "/", "/bundle", "/keys", BundleEndpointHandler.DISCOVERY_PATH, BundleEndpointHandler.SSH_USER_CA_PATH -> path;
            default -> "other";
        };
    }

    /** The bound address, with the real port when 0 was asked for. */
    public InetSocketAddress address() {
        return new InetSocketAddress(options.address().getAddress(), connector.getLocalPort());
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("bundle endpoint did not stop cleanly: {}", e.getMessage());
        }
    }
}
