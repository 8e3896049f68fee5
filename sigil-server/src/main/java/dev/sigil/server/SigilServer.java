package dev.sigil.server;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.AgentApiServer;
import dev.sigil.server.agent.DriftListener;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.core.observability.MetricsListener;
import dev.sigil.server.endpoint.BundleEndpoint;
import dev.sigil.server.metrics.ServerMetrics;
import dev.sigil.server.drift.DriftResponder;
import dev.sigil.server.token.TokenEndpoint;
import dev.sigil.server.token.TokenSettings;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.svid.ServerIdentity;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one Sigil server: composes the subsystems, each built by its own small builder
 * in this package, in dependency order — {@link Foundation} (datastore, keys, audit), {@link Identities}
 * (authorities, SVID issuance, the server's own SVID), {@link Registrations}, {@link Grants} (policy,
 * tasks, brokers, leases, tokens), {@link DriftResponses}, {@link Listeners} — then registers the periodic
 * jobs ({@link ServerJobs}). Everything runs on an injected {@link Clock}.
 *
 * <p>Start-up is all or nothing: when any step fails (datastore unusable, CA keys missing, a port
 * taken) everything opened so far is closed again and the error propagates with its message.
 */
public final class SigilServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SigilServer.class);

    private final Deque<AutoCloseable> resources;
    private boolean closed;
    private final Authority authority;
    private final AdminServer admin;
    private final Optional<BundleEndpoint> bundleEndpoint;
    private final ServerIdentity identity;
    private final AgentApiServer agentApi;
    private final Optional<TokenEndpoint> tokenEndpoint;
    private final TokenSettings tokenSettings;
    private final PolicyEngine policyEngine;
    private final LeaseService leases;
    private final dev.sigil.server.jobs.JobRunner jobs;
    private final Optional<MetricsListener> metricsListener;

    private SigilServer(Deque<AutoCloseable> resources, Authority authority, AdminServer admin,
                        Optional<BundleEndpoint> bundleEndpoint, ServerIdentity identity, AgentApiServer agentApi,
                        Optional<TokenEndpoint> tokenEndpoint, TokenSettings tokenSettings, PolicyEngine policyEngine,
                        LeaseService leases, dev.sigil.server.jobs.JobRunner jobs, Optional<MetricsListener> metricsListener) {
        this.jobs = jobs;
        this.metricsListener = metricsListener;
        this.policyEngine = policyEngine;
        this.leases = leases;
        this.agentApi = agentApi;
        this.tokenEndpoint = tokenEndpoint;
        this.tokenSettings = tokenSettings;
        this.resources = resources;
        this.authority = authority;
        this.admin = admin;
        this.bundleEndpoint = bundleEndpoint;
        this.identity = identity;
    }

    public static SigilServer start(ServerConfig config) {
        return start(config, Clock.systemUTC());
    }

    public static SigilServer start(ServerConfig config, Clock clock) {
        return start(config, clock, Options.defaults());
    }

    /**
     * What tests and embedders may set beyond the configuration.
     *
     * @param policyOverride decides token exchanges and grants instead of the stored policy (whose admin API
     *                       is still served)
     * @param extraBrokers   brokers offered next to the configured ones (the token broker is always added)
     * @param driftListener  also told of every accepted workload drift report, after its {@code workload.drift}
     *                       audit records are committed and after the server's own graded response
     *                       ({@link DriftResponder}) ran
     */
    public record Options(Optional<PolicyEngine> policyOverride, java.util.List<ConfiguredBroker> extraBrokers,
                          DriftListener driftListener, FederationSettings federation) {
        public Options {
            java.util.Objects.requireNonNull(policyOverride, "policyOverride");
            extraBrokers = java.util.List.copyOf(extraBrokers);
            java.util.Objects.requireNonNull(driftListener, "driftListener");
            java.util.Objects.requireNonNull(federation, "federation");
        }

        public Options(Optional<PolicyEngine> policyOverride, java.util.List<ConfiguredBroker> extraBrokers, DriftListener driftListener) {
            this(policyOverride, extraBrokers, driftListener, FederationSettings.defaults());
        }

        public static Options defaults() {
            return new Options(Optional.empty(), java.util.List.of(), DriftListener.none(), FederationSettings.defaults());
        }

        public Options withPolicy(PolicyEngine policy) {
            return new Options(Optional.of(policy), extraBrokers, driftListener, federation);
        }

        public Options withBrokers(java.util.List<ConfiguredBroker> brokers) {
            return new Options(policyOverride, brokers, driftListener, federation);
        }

        public Options withDriftListener(DriftListener listener) {
            return new Options(policyOverride, extraBrokers, listener, federation);
        }

        public Options withFederation(FederationSettings settings) {
            return new Options(policyOverride, extraBrokers, driftListener, settings);
        }
    }

    /**
     * How federated bundles are fetched (docs/federation.md): the roots https_web bundle endpoints must
     * chain to (empty: the JDK's trusted roots, which {@code javax.net.ssl.trustStore} can replace), and the
     * bounds a remote bundle's {@code spiffe_refresh_hint} is clamped to.
     */
    public record FederationSettings(Optional<java.util.List<java.security.cert.X509Certificate>> webRoots,
                                     java.time.Duration minRefreshInterval, java.time.Duration maxRefreshInterval) {
        public FederationSettings {
            java.util.Objects.requireNonNull(webRoots, "webRoots");
            webRoots = webRoots.map(java.util.List::copyOf);
            java.util.Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
            java.util.Objects.requireNonNull(maxRefreshInterval, "maxRefreshInterval");
        }

        public static FederationSettings defaults() {
            return new FederationSettings(Optional.empty(), dev.sigil.server.federation.FederationRefresher.DEFAULT_MIN_INTERVAL,
                    dev.sigil.server.federation.FederationRefresher.DEFAULT_MAX_INTERVAL);
        }
    }

    /** Starts with {@code options}; all or nothing (see the class comment). */
    public static SigilServer start(ServerConfig config, Clock clock, Options options) {
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try {
            return build(config, clock, options, resources);
        } catch (RuntimeException | Error e) {
            closeAll(resources);
            throw e;
        }
    }

    private static SigilServer build(ServerConfig configured, Clock clock, Options options, Deque<AutoCloseable> resources) {
        // The issuer URL (and with it jwks_uri, status list URIs and the token audience) names the bundle port:
        // asked for port 0 without an explicit issuer, bind it first, so what is advertised is where it listens.
        Optional<ServerSocketChannel> bundleChannel = bindBundlePort(configured);
        bundleChannel.ifPresent(resources::push);
        ServerConfig config = bundleChannel.map(channel -> configured.withBundleEndpointPort(channel.socket().getLocalPort()))
                .orElse(configured);
        Optional<ServerMetrics> metrics = config.metrics().map(settings -> ServerMetrics.create(clock));
        metrics.ifPresent(resources::push);
        Foundation foundation = Foundation.open(config, clock, resources, metrics);
        Identities identities = Identities.start(config, clock, foundation);
        Registrations registrations = Registrations.open(clock, foundation);
        Federation federation = Federation.start(clock, options.federation(), foundation, resources);
        Grants grants = Grants.start(config, clock, options, foundation, identities, registrations, federation, resources);
        DriftResponses drift = DriftResponses.start(config, clock, options, foundation, registrations, grants);
        Listeners listeners = Listeners.start(config, clock, foundation, identities, registrations, grants, drift, federation,
                bundleChannel, resources, metrics);
        dev.sigil.server.jobs.JobRunner jobs = ServerJobs.start(config, clock, foundation, identities, registrations, grants, drift,
                federation);
        resources.push(jobs);
        Optional<MetricsListener> metricsListener = metrics.map(m -> Observability.start(config, clock, m, foundation, identities, grants));
        metricsListener.ifPresent(resources::push);

        LOG.info("sigil server for trust domain '{}' is running: admin socket {}, agent api {}{}{}{}", config.trustDomain(),
                listeners.admin().socketPath(), hostPort(listeners.agentApi().address()),
                listeners.tokenEndpoint().map(t -> ", token endpoint https://" + hostPort(t.address())).orElse(""),
                listeners.admin().tcpAddress().map(a -> ", admin mtls " + hostPort(a)).orElse(""),
                listeners.bundleEndpoint().map(b -> ", bundle endpoint https://" + hostPort(b.address())).orElse(""));
        return new SigilServer(resources, identities.authority(), listeners.admin(), listeners.bundleEndpoint(), identities.identity(),
                listeners.agentApi(), listeners.tokenEndpoint(), grants.tokenSettings(), grants.policy(), grants.leases(), jobs,
                metricsListener);
    }

    private static Optional<ServerSocketChannel> bindBundlePort(ServerConfig config) {
        ServerConfig.BundleEndpointSettings bundle = config.bundleEndpoint();
        if (!bundle.enabled() || bundle.port() != 0 || config.jwt().issuer().isPresent()) {
            return Optional.empty();
        }
        try {
            ServerSocketChannel channel = ServerSocketChannel.open();
            try {
                channel.bind(new InetSocketAddress(bundle.address(), 0));
            } catch (java.io.IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            return Optional.of(channel);
        } catch (java.io.IOException e) {
            throw new dev.sigil.core.SigilException("cannot bind the bundle endpoint on " + bundle.address() + ": " + e.getMessage(), e);
        }
    }

    private static String hostPort(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /**
     * Whether this server runs the one-server jobs now (it holds the job leadership of the servers that
     * share its datastore; docs/datastore.md, "Job leadership").
     */
    public boolean runsOneServerJobs() {
        return jobs.leading();
    }

    /** Leases over brokered credentials (grant, renew, revoke, list). */
    public LeaseService leases() {
        return leases;
    }

    public Authority authority() {
        return authority;
    }

    /** The engine deciding with the policy in force (swapped atomically when a new policy is applied). */
    public PolicyEngine policyEngine() {
        return policyEngine;
    }

    public AdminServer admin() {
        return admin;
    }

    public Optional<InetSocketAddress> bundleEndpointAddress() {
        return bundleEndpoint.map(BundleEndpoint::address);
    }

    /** Where the agent API listens (the bound port when the configuration asked for port 0). */
    public InetSocketAddress agentApiAddress() {
        return agentApi.address();
    }

    /** Where the metrics and health listener listens, when {@code metrics} is configured (docs/observability.md). */
    public Optional<InetSocketAddress> metricsAddress() {
        return metricsListener.map(MetricsListener::address);
    }

    /** Where the token service listens (the bound port when the configuration asked for port 0). */
    public Optional<InetSocketAddress> tokenEndpointAddress() {
        return tokenEndpoint.map(TokenEndpoint::address);
    }

    /** The audience JWT-SVIDs presented to the token service must carry. */
    public String tokenAudience() {
        return tokenSettings.audience();
    }

    public SpiffeId spiffeId() {
        return identity.spiffeId();
    }

    /**
     * Stops everything the server started, in reverse order. Idempotent and thread-safe: a second
     * caller (a shutdown hook racing the main thread) waits until the first has finished, so whichever
     * returns first, every resource (the datastore last) is closed by then.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(resources);
        LOG.info("sigil server stopped");
    }

    private static void closeAll(Deque<AutoCloseable> resources) {
        while (!resources.isEmpty()) {
            AutoCloseable resource = resources.pop();
            try {
                resource.close();
            } catch (Exception e) {
                LOG.warn("error while stopping: {}", e.getMessage());
            } 
        }
    }
}
