package dev.sigil.server.token;

import dev.sigil.core.SigilException;
import dev.sigil.server.http.HttpServers;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TlsMaterial;
import dev.sigil.server.tls.TrustBundleSource;
import java.net.InetSocketAddress;
import java.time.Clock;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token service's HTTPS listener. The server presents its own SVID; client certificates are
 * requested but not required, so a workload may authenticate by mutual TLS with its X.509-SVID (a
 * presented certificate must chain to the trust bundle, or the handshake fails) or by a JWT-SVID.
 */
public final class TokenEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TokenEndpoint.class);
    /**
     * An exchange blocks its thread until its audit record's group commit is durable; the commit is
     * shared by every exchange waiting at that moment, so more threads mean larger batches, not more
     * CPU. 64 lets a durable commit of a few milliseconds carry thousands of exchanges per second.
     */
    private static final int MAX_THREADS = 64;

    private final InetSocketAddress requested;
    private final Server server;
    private final ServerConnector connector;

    private TokenEndpoint(InetSocketAddress requested, Server server, ServerConnector connector) {
        this.requested = requested;
        this.server = server;
        this.connector = connector;
    }

    public static TokenEndpoint start(InetSocketAddress address, TlsMaterial tls, TrustBundleSource bundle, TokenService service, Clock clock) {
        return start(address, tls, bundle, service, java.util.Optional.empty(), clock);
    }

    /** Also serves {@code POST /v1/credentials} when {@code leases} is present (see {@link CredentialRoute}). */
    public static TokenEndpoint start(InetSocketAddress address, TlsMaterial tls, TrustBundleSource bundle, TokenService service,
                                      java.util.Optional<dev.sigil.server.credential.LeaseService> leases, Clock clock) {
        return start(address, tls, bundle, service, leases, dev.sigil.server.http.ListenerLimits.DEFAULTS, clock);
    }

    /** With {@code limits} on idle connections, slow requests and the number of connections (see {@link dev.sigil.server.http.ListenerLimits}). */
    public static TokenEndpoint start(InetSocketAddress address, TlsMaterial tls, TrustBundleSource bundle, TokenService service,
                                      java.util.Optional<dev.sigil.server.credential.LeaseService> leases,
                                      dev.sigil.server.http.ListenerLimits limits, Clock clock) {
        return start(address, tls, bundle, service, leases, limits, dev.sigil.server.http.RequestObserver.NONE, clock);
    }

    /** Also telling {@code observer} of every request, by route template ({@link #route}). */
    public static TokenEndpoint start(InetSocketAddress address, TlsMaterial tls, TrustBundleSource bundle, TokenService service,
                                      java.util.Optional<dev.sigil.server.credential.LeaseService> leases,
                                      dev.sigil.server.http.ListenerLimits limits, dev.sigil.server.http.RequestObserver observer,
                                      Clock clock) {
        Server server = HttpServers.newServer("sigil-token", MAX_THREADS);
        HttpConfiguration https = HttpServers.httpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer(false);
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, 1, 1,
                new SslConnectionFactory(ServerTls.clientCertificateRequested(tls, bundle, clock), "http/1.1"),
                new HttpConnectionFactory(https));
        connector.setHost(address.getHostString());
        connector.setPort(address.getPort());
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        server.addConnector(connector);
        // past the limit, the connector stops accepting; further clients wait in the accept queue
        server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(limits.maxConnections(), connector));
        server.setHandler(dev.sigil.server.http.ObservedHandler.wrap(new TokenHandler(service, bundle,
                leases.map(l -> new CredentialRoute(l, service.verifier, service.settings, service.gate)), limits.requestTimeout()),
                observer, TokenEndpoint::route));
        TokenEndpoint endpoint = new TokenEndpoint(address, server, connector);
        try {
            server.start();
        } catch (Exception e) {
            endpoint.close();
            throw new SigilException("cannot start the token endpoint on " + address.getHostString() + ":" + address.getPort() + ": "
                    + e.getMessage() + " (set token_endpoint.port to another port)", e);
        }
        LOG.info("token endpoint listening on https://{}:{}", address.getHostString(), connector.getLocalPort());
        return endpoint;
    }

    /** The route template of a request path, for metrics: one of the endpoint's paths, or {@code other}. */
    static String route(String path) {
        return switch (path) {
            case "/oauth2/token", "/oauth2/introspect", "/oauth2/revoke", CredentialRoute.PATH, TokenHandler.METADATA_PATH -> path;
            default -> "other";
        };
    }

    /** The bound address, with the real port when 0 was asked for. */
    public InetSocketAddress address() {
        return new InetSocketAddress(requested.getAddress(), connector.getLocalPort());
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("token endpoint did not stop cleanly: {}", e.getMessage());
        }
    }
}
