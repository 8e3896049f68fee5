package dev.sigil.server.agent;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.svid.SvidIssuer;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TlsMaterial;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The agent API listener: gRPC over TLS 1.3/1.2 on TCP, presenting the server's own SVID (taken from
 * {@link TlsMaterial} at every handshake, so renewal needs no restart).
 *
 * <p>Client certificates are OPTIONAL at the TLS level, because Attest is called before the agent has
 * an SVID. The handshake only proves that a client presenting a certificate holds its key; the
 * certificate itself is judged per call by {@link AgentAuthenticator} (chain to the current bundle,
 * registered, not banned, current serial), which gives the agent a precise error status instead of an
 * opaque handshake failure.
 */
public final class AgentApiServer implements AutoCloseable {
    /** How long one Attest conversation may take, challenges included. */
    public static final Duration ATTEST_TIME_LIMIT = Duration.ofSeconds(30);

    private final Server server;
    private final ScheduledExecutorService timer;

    private AgentApiServer(Server server, ScheduledExecutorService timer) {
        this.server = server;
        this.timer = timer;
    }

    /**
     * What the agent API needs from the rest of the server.
     *
     * @param driftListener told of every accepted workload drift report, after it is audited
     */
    public record Dependencies(TlsMaterial identity, SpiffeId serverId, Authority authority, SvidIssuer issuer, EntryStore entries,
                               AgentStore agents, AuditTrail audit, List<NodeAttestor> attestors, Clock clock,
                               DriftListener driftListener, CredentialHoldings holdings,
                               java.util.function.Supplier<java.util.Map<dev.sigil.core.spiffeid.TrustDomain, dev.sigil.core.bundle.SpiffeBundle>> federatedBundles) {
        /** No federated trust domains. */
        public Dependencies(TlsMaterial identity, SpiffeId serverId, Authority authority, SvidIssuer issuer, EntryStore entries,
                            AgentStore agents, AuditTrail audit, List<NodeAttestor> attestors, Clock clock, DriftListener driftListener,
                            CredentialHoldings holdings) {
            this(identity, serverId, authority, issuer, entries, agents, audit, attestors, clock, driftListener, holdings,
                    java.util.Map::of);
        }

        /** Every exit recorded ({@link CredentialHoldings#ANY}). */
        public Dependencies(TlsMaterial identity, SpiffeId serverId, Authority authority, SvidIssuer issuer, EntryStore entries,
                            AgentStore agents, AuditTrail audit, List<NodeAttestor> attestors, Clock clock, DriftListener driftListener) {
            this(identity, serverId, authority, issuer, entries, agents, audit, attestors, clock, driftListener, CredentialHoldings.ANY);
        }

        /** Without a drift listener: drift reports are audited only. */
        public Dependencies(TlsMaterial identity, SpiffeId serverId, Authority authority, SvidIssuer issuer, EntryStore entries,
                            AgentStore agents, AuditTrail audit, List<NodeAttestor> attestors, Clock clock) {
            this(identity, serverId, authority, issuer, entries, agents, audit, attestors, clock, DriftListener.none(),
                    CredentialHoldings.ANY);
        }

        public Dependencies {
            Objects.requireNonNull(driftListener, "driftListener");
            Objects.requireNonNull(holdings, "holdings");
            Objects.requireNonNull(federatedBundles, "federatedBundles");
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(serverId, "serverId");
            Objects.requireNonNull(authority, "authority");
            Objects.requireNonNull(issuer, "issuer");
            Objects.requireNonNull(entries, "entries");
            Objects.requireNonNull(agents, "agents");
            Objects.requireNonNull(audit, "audit");
            attestors = List.copyOf(attestors);
            Objects.requireNonNull(clock, "clock");
        }
    }

    /**
     * Binds and starts the listener.
     *
     * @param agentSvidTtl lifetime of agent SVIDs; zero means the server's default X.509-SVID TTL
     * @throws IllegalStateException when the address cannot be bound
     */
    public static AgentApiServer start(InetSocketAddress address, Duration agentSvidTtl, Dependencies deps) {
        return start(address, agentSvidTtl, ATTEST_TIME_LIMIT, deps);
    }

    /** Also running {@code observers} (metrics) around every call, outermost, so they see refused calls too. */
    public static AgentApiServer start(InetSocketAddress address, Duration agentSvidTtl, Dependencies deps,
                                       List<io.grpc.ServerInterceptor> observers) {
        return start(address, agentSvidTtl, ATTEST_TIME_LIMIT, deps, observers);
    }

    static AgentApiServer start(InetSocketAddress address, Duration agentSvidTtl, Duration attestTimeLimit, Dependencies deps) {
        return start(address, agentSvidTtl, attestTimeLimit, deps, List.of());
    }

    static AgentApiServer start(InetSocketAddress address, Duration agentSvidTtl, Duration attestTimeLimit, Dependencies deps,
                                List<io.grpc.ServerInterceptor> observers) {
        Map<String, NodeAttestor> attestors = new LinkedHashMap<>();
        for (NodeAttestor attestor : deps.attestors()) {
            if (attestors.putIfAbsent(attestor.type(), attestor) != null) {
                throw new IllegalArgumentException("node attestor '" + attestor.type() + "' is configured twice");
            }
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sigil-agent-api-timer");
            thread.setDaemon(true);
            return thread;
        });
        AgentService service = new AgentService(attestors, deps.agents(), deps.entries(), deps.serverId(), deps.issuer(),
                deps.authority(), deps.audit(), agentSvidTtl, deps.clock(), timer, attestTimeLimit, deps.driftListener(),
                deps.holdings(), deps.federatedBundles());
        AgentAuthenticator authenticator = new AgentAuthenticator(deps.agents(),
                () -> deps.authority().bundle().x509Authorities(), deps.clock());
        Server server = NettyServerBuilder.forAddress(address)
                .sslContext(sslContext(deps.identity()))
                .addService(ServerInterceptors.intercept(ServerInterceptors.intercept(service, authenticator), observers))
                .maxInboundMessageSize(4 * 1024 * 1024)
                // a peer that connects and never finishes the TLS handshake, or holds an idle connection,
                // is dropped; a connection cannot carry unbounded concurrent calls or metadata
                .handshakeTimeout(10, java.util.concurrent.TimeUnit.SECONDS)
                .maxConnectionIdle(5, java.util.concurrent.TimeUnit.MINUTES)
                .maxConcurrentCallsPerConnection(256)
                .maxInboundMetadataSize(16 * 1024)
                .build();
        try {
            server.start();
        } catch (IOException e) {
            timer.shutdownNow();
            throw new dev.sigil.core.SigilException("cannot listen for the agent api on " + address.getHostString() + ":" + address.getPort()
                    + ": " + bindFailure(e) + "; set agent_api.address/port (or SIGIL_AGENT_API_PORT, --agent-api-port) to a free address", e);
        }
        return new AgentApiServer(server, timer);
    }

    /** Why a listener could not bind, in words rather than the network library's errno text. */
    static String bindFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof java.net.BindException || message.contains("Address already in use")) {
                return message.contains("Cannot assign requested address") ? "no interface has this address" : "the address is already in use";
            }
            if (message.contains("Permission denied")) {
                return "permission denied (ports below 1024 need privileges)";
            }
        }
        return "the port cannot be bound";
    }

    private static SslContext sslContext(TlsMaterial identity) {
        try {
            return GrpcSslContexts.configure(SslContextBuilder.forServer(ServerTls.rotatingKeyManager(identity)), SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .clientAuth(ClientAuth.OPTIONAL)
                    .trustManager(new DeferredClientCheck())
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the agent api tls context: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            timer.shutdownNow();
        }
    }

    /**
     * Accepts any client chain during the handshake; {@link AgentAuthenticator} validates it on every
     * call. Never used to validate servers.
     *
     * <p>Deliberately not {@code dev.sigil.server.tls.SpiffeClientTrustManager}: that manager refuses an
     * invalid SVID in the handshake, whereas here an agent presenting an SVID that has expired or no
     * longer chains to the current bundle must still connect, to call Attest (which needs no SVID) or to
     * get a precise gRPC status instead of an opaque handshake failure. The X.509-SVID checks are
     * not duplicated: {@link AgentAuthenticator} runs that manager's validation through
     * {@link ServerTls#verifyClientSvid} on every call, at the call's time and against the bundle then
     * current, so a connection outliving its SVID or a bundle rotation is still judged.
     */
    private static final class DeferredClientCheck extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            requireChain(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            requireChain(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            requireChain(chain);
        }

        private static void requireChain(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the client presented an empty certificate chain");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("this trust manager only accepts clients");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("this trust manager only accepts clients");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("this trust manager only accepts clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
