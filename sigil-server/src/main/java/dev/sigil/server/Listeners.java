package dev.sigil.server;

import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.ReadinessCheck;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.agent.AgentApiServer;
import dev.sigil.server.agent.AgentRoutes;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.agent.attestor.NodeAttestorPlugin;
import dev.sigil.server.agent.attestor.NodeAttestors;
import dev.sigil.server.audit.AuditRoutes;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.console.Console;
import dev.sigil.server.console.ConsoleRoutes;
import dev.sigil.server.console.ConsoleSessions;
import dev.sigil.server.credential.LeaseRoutes;
import dev.sigil.server.drift.Withdrawals;
import dev.sigil.server.endpoint.BundleEndpoint;
import dev.sigil.server.http.RequestObserver;
import dev.sigil.server.metrics.ServerMetrics;
import dev.sigil.server.governance.Governance;
import dev.sigil.server.governance.GovernanceRoutes;
import dev.sigil.server.policy.PolicyRoutes;
import dev.sigil.server.registration.RegistrationRoutes;
import dev.sigil.server.svid.SvidRoutes;
import dev.sigil.server.task.TaskRoutes;
import dev.sigil.server.tls.TlsMaterial;
import dev.sigil.server.token.TokenEndpoint;
import dev.sigil.server.token.TokenRoutes;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The server's listeners, each started only once everything it serves is ready: the admin API (Unix socket,
 * optionally mutual TLS), the bundle endpoint (public material only), the token endpoint and the agent API.
 */
record Listeners(AdminServer admin, Optional<BundleEndpoint> bundleEndpoint, Optional<TokenEndpoint> tokenEndpoint,
                 AgentApiServer agentApi) {


    /** With {@code metrics}: every listener tells it of its requests. */
    static Listeners start(ServerConfig config, Clock clock, Foundation foundation, Identities identities, Registrations registrations,
                           Grants grants, DriftResponses drift, Federation federation, Optional<ServerSocketChannel> bundleChannel,
                           Deque<AutoCloseable> resources, Optional<ServerMetrics> metrics) {
        AdminServer admin = admin(config, clock, foundation, identities, registrations, grants, federation,
                metrics.map(m -> m.http("admin")).orElse(RequestObserver.NONE));
        resources.push(admin);

        Optional<BundleEndpoint> bundleEndpoint = Optional.empty();
        if (config.bundleEndpoint().enabled()) {
            ServerConfig.BundleEndpointSettings settings = config.bundleEndpoint();
            TlsMaterial tls = settings.webTls()
                    .map(web -> TlsMaterial.fromPemFiles(web.certFile(), web.keyFile()))
                    .orElse(identities.identity());
            BundleEndpoint endpoint = BundleEndpoint.create(
                    BundleEndpoint.Options.of(new InetSocketAddress(settings.address(), settings.port()), settings.refreshHint(),
                            config.jwtIssuer()),
                    tls, new AuthorityPublicMaterial(identities.authority(), identities.statuses(), grants.sshUserCa()), bundleChannel,
                    metrics.map(m -> m.http("bundle")).orElse(RequestObserver.NONE));
            endpoint.start();
            resources.push(endpoint);
            bundleEndpoint = Optional.of(endpoint);
        }

        Optional<TokenEndpoint> tokenEndpoint = Optional.empty();
        ServerConfig.TokenEndpointSettings tokenConfig = config.tokenEndpoint();
        if (tokenConfig.enabled()) {
            TokenEndpoint endpoint = TokenEndpoint.start(new InetSocketAddress(tokenConfig.address(), tokenConfig.port()),
                    identities.identity(), () -> identities.authority().bundle().x509Authorities(), grants.tokens(),
                    Optional.of(grants.leases()), tokenConfig.limits(), metrics.map(m -> m.http("token")).orElse(RequestObserver.NONE),
                    clock);
            resources.push(endpoint);
            tokenEndpoint = Optional.of(endpoint);
        }

        ServerConfig.AgentApiSettings agentSettings = config.agentApi();
        List<NodeAttestor> attestors = NodeAttestors.create(config.nodeAttestors(), PluginRegistry.installed(),
                new NodeAttestorPlugin.Context(config.trustDomain(), registrations.joinTokens(), clock,
                        registrations.usedNodeEvidence(), registrations.continuousAttestors()));
        AgentApiServer agentApi = AgentApiServer.start(new InetSocketAddress(agentSettings.address(), agentSettings.port()),
                agentSettings.agentSvidTtl().orElse(Duration.ZERO),
                new AgentApiServer.Dependencies(identities.identity(), identities.identity().spiffeId(), identities.authority(),
                        identities.issuer(), registrations.entries(), registrations.agents(), foundation.audit(), attestors, clock,
                        drift.listener(), holder -> liveCredentials(grants, identities, clock, holder), federation.refresher()::all),
                metrics.map(m -> List.of(m.grpc())).orElse(List.of()));
        resources.push(agentApi);
        return new Listeners(admin, bundleEndpoint, tokenEndpoint, agentApi);
    }

    /** Leases not yet revoked, and tokens (JWT-SVIDs, access tokens) valid and unexpired: what an exit could withdraw. */
    private static boolean liveCredentials(Grants grants, Identities identities, Clock clock, dev.sigil.core.spiffeid.SpiffeId holder) {
        for (var state : List.of(dev.sigil.server.credential.LeaseState.PENDING, dev.sigil.server.credential.LeaseState.ACTIVE,
                dev.sigil.server.credential.LeaseState.REVOKING)) {
            if (!grants.leases().list(dev.sigil.server.credential.LeaseFilter.all().withHolder(holder).withState(state), 1).isEmpty()) {
                return true;
            }
        }
        return identities.statuses().holdsLive(holder, clock.instant());
    }

    private static Governance governance(ServerConfig config, Clock clock, Foundation foundation, Identities identities,
                                         Registrations registrations, Grants grants) {
        Withdrawals withdrawals = new Withdrawals(Optional.of(grants.leases()), grants.issuedTokens(), grants.gates(),
                foundation.datastore(), foundation.audit(), clock);
        Governance.PolicyView policy = new Governance.PolicyView() {
            @Override
            public List<dev.sigil.server.policy.RuleView> rules() {
                return grants.policyStore().current().policy().rules();
            }

            @Override
            public java.util.Map<String, java.time.Instant> rulesInForceSince() {
                return grants.policyStore().rulesInForceSince(1_000);
            }
        };
        // a gate set by an offboarding must outlive every SVID issued before it, as drift's do
        return new Governance(new Governance.Dependencies(registrations.entries(), registrations.agents(), grants.leases(), grants.tasks(),
                foundation.audit(), policy, withdrawals, config.governance(), config.trustDomain().name(),
                identities.identity().spiffeId().toString(), config.ca().ttl(), clock));
    }

    private static AdminServer admin(ServerConfig config, Clock clock, Foundation foundation, Identities identities,
                                     Registrations registrations, Grants grants, Federation federation, RequestObserver observer) {
        // console logins are security events: each code minted and each session started is audited
        ConsoleSessions consoleSessions = new ConsoleSessions(clock, new ConsoleSessions.Events() {
            @Override
            public void codeIssued(dev.sigil.server.admin.Actor operator, java.time.Instant expiresAt) {
                foundation.audit().append(dev.sigil.server.audit.AuditEvent.success(operator.describe(), "console.login_code",
                        operator.describe(), java.util.Map.of("expires_at", expiresAt.toString())));
            }

            @Override
            public void sessionStarted(dev.sigil.server.admin.Actor operator) {
                foundation.audit().append(dev.sigil.server.audit.AuditEvent.success(operator.describe(), "console.session",
                        operator.describe(), java.util.Map.of()));
            }
        });
        Routes routes = Routes.builder()
                .addAll(new ConsoleRoutes(consoleSessions).routes())
                .addAll(new RegistrationRoutes(registrations.entries(), registrations.joinTokens(), config.trustDomain()).routes())
                .addAll(new SvidRoutes(identities.issuer(), identities.authority()).routes())
                .addAll(new AuditRoutes(foundation.audit(), foundation.checkpoints(), foundation.hasher()).routes())
                .addAll(new AgentRoutes(registrations.agents(), registrations.continuousAttestors()).routes())
                .addAll(new TaskRoutes(grants.tasks(), clock).routes())
                .addAll(new TokenRoutes(grants.tokens()).routes())
                .addAll(new PolicyRoutes(grants.policyStore(), clock).routes())
                .addAll(new LeaseRoutes(grants.leases(), grants.leaks()).routes())
                .addAll(new dev.sigil.server.federation.FederationRoutes(federation.store(), config.trustDomain()).routes())
                .addAll(new GovernanceRoutes(governance(config, clock, foundation, identities, registrations, grants)).routes())
                .addAll(new dev.sigil.server.resource.ResourceRoutes(grants.resources(), config.jwtIssuer().toString()).routes())
                .build();
        ReadinessCheck readiness = () -> foundation.datastore().healthy()
                ? new ReadinessCheck.Readiness.Ready()
                : new ReadinessCheck.Readiness.NotReady("the datastore does not answer");
        AdminServer.Options options = AdminServer.Options.unixSocket(config.admin().socketPath());
        if (config.admin().tcp().isPresent()) {
            ServerConfig.AdminTcpSettings tcp = config.admin().tcp().get();
            options = options.withTcp(new AdminServer.MutualTlsListener(new InetSocketAddress(tcp.address(), tcp.port()),
                    identities.identity(), () -> identities.authority().bundle().x509Authorities(), registrations::isAdmin));
        }
        AdminServer admin = AdminServer.create(options, new AdminApi(routes, readiness, new ServerExceptionMapper())
                .withConsole(new Console(consoleSessions)), clock, observer);
        admin.start();
        return admin;
    }
}
