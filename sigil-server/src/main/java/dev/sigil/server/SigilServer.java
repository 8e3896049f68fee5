package dev.sigil.server;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.agent.AgentApiServer;
import dev.sigil.server.agent.AgentRoutes;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.agent.AttestedSubjects;
import dev.sigil.server.agent.DriftListener;
import dev.sigil.server.agent.attestor.NodeAttestorPlugin;
import dev.sigil.server.agent.attestor.NodeAttestors;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.ReadinessCheck;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.audit.AuditCheckpoints;
import dev.sigil.server.jobs.Job;
import dev.sigil.server.jobs.JobRunner;
import dev.sigil.server.audit.AuditJsonlExporter;
import dev.sigil.server.audit.AuditRoutes;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.SecretHasher;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.AuthorityConfig;
import dev.sigil.server.authority.AuthorityKind;
import dev.sigil.server.authority.RotationEvent;
import dev.sigil.server.authority.UpstreamCa;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.credential.Brokers;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.LeakResponse;
import dev.sigil.server.credential.LeaseRoutes;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseStore;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.endpoint.BundleEndpoint;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.task.TaskRoutes;
import dev.sigil.server.task.TaskStore;
import dev.sigil.server.token.IssuedTokens;
import dev.sigil.server.token.TokenBroker;
import dev.sigil.server.status.TokenStatusRegistry;
import dev.sigil.server.drift.DriftGates;
import dev.sigil.server.drift.DriftResponder;
import dev.sigil.server.drift.RegistrationRevocations;
import dev.sigil.server.token.TokenEndpoint;
import dev.sigil.server.token.TokenRoutes;
import dev.sigil.server.token.TokenService;
import dev.sigil.server.token.TokenSettings;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.JoinTokens;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRoutes;
import dev.sigil.server.policy.PolicyStore;
import dev.sigil.server.registration.RegistrationRoutes;
import dev.sigil.server.svid.ServerIdentity;
import dev.sigil.server.svid.SvidIssuer;
import dev.sigil.server.svid.SvidRoutes;
import dev.sigil.server.tls.TlsMaterial;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one Sigil server: builds every component from the configuration with
 * plain constructors, starts the listeners, and runs the periodic work (authority rotation, renewal
 * of the server's own SVID, pruning of expired join tokens) on an injected {@link Clock}.
 *
 * <p>Start-up is all or nothing: when any step fails (datastore unusable, CA keys missing, a port
 * taken) everything opened so far is closed again and the error propagates with its message.
 */
public final class SigilServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SigilServer.class);
    /** How often rotation and renewal are checked; each check is cheap when nothing is due. */
    static final Duration TICK = Duration.ofSeconds(5);
    /** How often registration changes and agent bans are checked against issued credentials. */
    private static final Duration REGISTRATION_CHECK = Duration.ofSeconds(1);
    private static final Duration JOIN_TOKEN_PRUNE_INTERVAL = Duration.ofMinutes(1);
    /** Registry and status rows of expired tokens are kept this long (for operators' lookups), then pruned. */
    private static final Duration EXPIRED_TOKEN_RETENTION = Duration.ofHours(1);
    private static final String ACTOR = "sigil-server";
    /** How long relying parties may cache a token status list (its {@code ttl} claim). */
    private static final Duration STATUS_LIST_TTL = Duration.ofSeconds(30);

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

    private SigilServer(Deque<AutoCloseable> resources, Authority authority, AdminServer admin,
                        Optional<BundleEndpoint> bundleEndpoint, ServerIdentity identity, AgentApiServer agentApi,
                        Optional<TokenEndpoint> tokenEndpoint, TokenSettings tokenSettings, PolicyEngine policyEngine,
                        LeaseService leases) {
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
                          DriftListener driftListener) {
        public Options {
            java.util.Objects.requireNonNull(policyOverride, "policyOverride");
            extraBrokers = java.util.List.copyOf(extraBrokers);
            java.util.Objects.requireNonNull(driftListener, "driftListener");
        }

        public static Options defaults() {
            return new Options(Optional.empty(), java.util.List.of(), DriftListener.none());
        }

        public Options withPolicy(PolicyEngine policy) {
            return new Options(Optional.of(policy), extraBrokers, driftListener);
        }

        public Options withBrokers(java.util.List<ConfiguredBroker> brokers) {
            return new Options(policyOverride, brokers, driftListener);
        }

        public Options withDriftListener(DriftListener listener) {
            return new Options(policyOverride, extraBrokers, listener);
        }
    }

    /** Starts with {@code options}; all or nothing (see the class comment). */
    public static SigilServer start(ServerConfig config, Clock clock, Options options) {
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try {
            return build(config, clock, options.policyOverride(), options.extraBrokers(), options.driftListener(), resources);
        } catch (RuntimeException | Error e) {
            closeAll(resources);
            throw e;
        }
    }

    private static SigilServer build(ServerConfig config, Clock clock, Optional<PolicyEngine> policyOverride,
                                     java.util.List<ConfiguredBroker> extraBrokers, DriftListener driftListener,
                                     Deque<AutoCloseable> resources) {
        DataDirectory.prepare(config.dataDir());
        LOG.debug("signing provider: {}", CryptoProviders.describe());

        Datastore datastore = Datastore.open(config.datastore().toDatastoreConfig());
        resources.push(datastore);
        KeyManager keys = dev.sigil.server.keys.KeyManagerFactory.create(config.keyManager(),
                dev.sigil.core.plugin.PluginRegistry.installed(), new dev.sigil.server.keys.KeyManagerPlugin.Context(config.dataDir()));
        AuditCheckpoints checkpoints = AuditCheckpoints.create(datastore, keys, clock, config.audit().checkpointEvery(),
                config.audit().checkpointInterval());
        AuditTrail audit = AuditTrail.create(datastore, clock, checkpoints);
        SecretHasher secretHasher = SecretHasher.loadOrCreate(config.dataDir().resolve("keys"));

        AtomicBoolean x509AuthorityChanged = new AtomicBoolean();
        Authority authority = Authority.start(authorityConfig(config), datastore, keys, clock, event -> {
            audit.append(RotationAudit.of(ACTOR, event));
            if (event instanceof RotationEvent.Activated activated && activated.kind() == AuthorityKind.X509) {
                x509AuthorityChanged.set(true);
            }
        });
        EntryStore entries = EntryStore.create(datastore, audit, clock);
        JoinTokens joinTokens = JoinTokens.create(datastore, audit, clock);
        TokenStatusRegistry statuses = new TokenStatusRegistry(datastore, authority, clock, config.jwtIssuer(), STATUS_LIST_TTL);
        SvidIssuer issuer = new SvidIssuer(authority, audit, secretHasher, config.defaultX509SvidTtl(), config.defaultJwtSvidTtl(),
                Optional.of(statuses));
        ServerIdentity identity = new ServerIdentity(config.trustDomain().id("/sigil/server"), issuer, clock,
                config.defaultX509SvidTtl());
        identity.renewIfDue(true);
        AgentStore agents = AgentStore.create(datastore, audit, clock);
        PolicyStore policyStore = new PolicyStore(datastore, audit, clock);
        PolicyEngine policy = policyOverride.orElse(policyStore);
        IssuedTokens issuedTokens = new IssuedTokens(datastore);
        LeaseService[] leaseHolder = new LeaseService[1];
        TaskStore tasks = TaskStore.create(datastore, audit, clock, (connection, taskId, at) -> {
            issuedTokens.revokeForTask(connection, taskId, at);
            leaseHolder[0].revokeForTask(connection, taskId, at);
        });
        AttestedSubjects evidence = new AttestedSubjects(entries, agents);
        java.util.List<ConfiguredBroker> brokers = new java.util.ArrayList<>(Brokers.create(config.brokers(),
                dev.sigil.core.plugin.PluginRegistry.installed(), new dev.sigil.server.credential.BrokerPlugin.Context(keys, clock)));
        brokers.addAll(extraBrokers);
        ServerConfig.TokenEndpointSettings tokenConfig = config.tokenEndpoint();
        brokers.add(new ConfiguredBroker(new TokenBroker(datastore, issuedTokens, clock), tokenConfig.defaultTtl(),
                tokenConfig.defaultTtl()));
        for (ConfiguredBroker configured : brokers) {
            if (configured.broker() instanceof AutoCloseable closeable) {
                resources.push(closeable);
            }
        }
        // what relying systems need to trust brokered credentials (the ssh user ca), served on the bundle endpoint
        Optional<String> sshUserCa = brokers.stream().map(b -> b.broker().publicMaterial().get("ssh_user_ca"))
                .filter(java.util.Objects::nonNull).findFirst();
        DriftGates driftGates = new DriftGates(datastore, clock);
        LeaseService leases = new LeaseService(new LeaseService.Dependencies(LeaseStore.create(datastore), datastore, audit, policy,
                tasks::find, evidence, holder -> LeaseWiring.agentOf(entries, holder), secretHasher::keyedHash, brokers, clock,
                holder -> driftGates.refusesRenewal(holder).map(DriftGates::reason)));
        leaseHolder[0] = leases;
        // Before any request: interrupted grants and revocations from a previous run are finished first.
        leases.revoker().reconcile();
        resources.push(leases.revoker().start());
        String issuerUrl = config.jwtIssuer().toString();
        TokenSettings tokenSettings = new TokenSettings(issuerUrl,
                tokenConfig.audience().orElse(TokenSettings.defaultAudience(issuerUrl)), tokenConfig.defaultTtl(),
                java.util.Set.copyOf(tokenConfig.introspectors()));
        TokenService tokens = new TokenService(tokenSettings, authority, policy, tasks, issuedTokens, statuses, leases,
                (holder, issuedAt) -> driftGates.refusesGrant(holder, issuedAt).map(DriftGates::reason), datastore, audit, clock,
                secretHasher::keyedHash, evidence);
        // A gate must outlive every SVID issued before it; no X.509-SVID outlives its CA.
        Duration gateLifetime = config.ca().ttl();
        RegistrationRevocations registrationRevocations = new RegistrationRevocations(entries, agents, leases, issuedTokens, driftGates,
                datastore, audit, clock, gateLifetime);
        LeakResponse leaks = new LeakResponse(leases, audit, secretHasher::keyedHash, LeaseWiring.banning(entries),
                LeaseWiring.tokenLeaks(tokens));

        Routes routes = Routes.builder()
                .addAll(new RegistrationRoutes(entries, joinTokens, config.trustDomain()).routes())
                .addAll(new SvidRoutes(issuer, authority).routes())
                .addAll(new AuditRoutes(audit, checkpoints, secretHasher).routes())
                .addAll(new AgentRoutes(agents).routes())
                .addAll(new TaskRoutes(tasks, clock).routes())
                .addAll(new TokenRoutes(tokens).routes())
                .addAll(new PolicyRoutes(policyStore, clock).routes())
                .addAll(new LeaseRoutes(leases, leaks).routes())
                .build();
        ReadinessCheck readiness = () -> datastore.healthy()
                ? new ReadinessCheck.Readiness.Ready()
                : new ReadinessCheck.Readiness.NotReady("the datastore does not answer");
        AdminServer.Options adminOptions = AdminServer.Options.unixSocket(config.admin().socketPath());
        if (config.admin().tcp().isPresent()) {
            ServerConfig.AdminTcpSettings tcp = config.admin().tcp().get();
            adminOptions = adminOptions.withTcp(new AdminServer.MutualTlsListener(
                    new InetSocketAddress(tcp.address(), tcp.port()), identity, () -> authority.bundle().x509Authorities(),
                    id -> isAdmin(entries, id)));
        }
        AdminServer admin = AdminServer.create(adminOptions, new AdminApi(routes, readiness, new ServerExceptionMapper()), clock);
        admin.start();
        resources.push(admin);

        Optional<BundleEndpoint> bundleEndpoint = Optional.empty();
        if (config.bundleEndpoint().enabled()) {
            ServerConfig.BundleEndpointSettings settings = config.bundleEndpoint();
            TlsMaterial tls = settings.webTls()
                    .map(web -> TlsMaterial.fromPemFiles(web.certFile(), web.keyFile()))
                    .orElse(identity);
            BundleEndpoint endpoint = BundleEndpoint.create(
                    BundleEndpoint.Options.of(new InetSocketAddress(settings.address(), settings.port()),
                            settings.refreshHint(), config.jwtIssuer()),
                    tls, new AuthorityPublicMaterial(authority, statuses, sshUserCa));
            endpoint.start();
            resources.push(endpoint);
            bundleEndpoint = Optional.of(endpoint);
        }

        Optional<TokenEndpoint> tokenEndpoint = Optional.empty();
        if (tokenConfig.enabled()) {
            TokenEndpoint endpoint = TokenEndpoint.start(new InetSocketAddress(tokenConfig.address(), tokenConfig.port()), identity,
                    () -> authority.bundle().x509Authorities(), tokens, Optional.of(leases), tokenConfig.limits(), clock);
            resources.push(endpoint);
            tokenEndpoint = Optional.of(endpoint);
        }

        ServerConfig.AgentApiSettings agentSettings = config.agentApi();
        java.util.List<NodeAttestor> attestors = NodeAttestors.create(config.nodeAttestors(),
                dev.sigil.core.plugin.PluginRegistry.installed(), new NodeAttestorPlugin.Context(config.trustDomain(), joinTokens, clock));
        // Workload drift (docs/drift.md): agents report drifted workloads through ReportDrift; each accepted
        // report is audited (workload.drift), answered by the graded response (DriftResponder: revoke,
        // narrow, reattest or ignore, per policy; linked to event.driftId()), then handed to driftListener.
        DriftResponder responder = new DriftResponder(new DriftResponder.Dependencies(policy, Optional.of(leases), issuedTokens,
                driftGates, datastore, audit, clock, gateLifetime));
        DriftListener listeners = event -> {
            responder.onDrift(event);
            driftListener.onDrift(event);
        };
        AgentApiServer agentApi = AgentApiServer.start(new InetSocketAddress(agentSettings.address(), agentSettings.port()),
                agentSettings.agentSvidTtl().orElse(Duration.ZERO),
                new AgentApiServer.Dependencies(identity, identity.spiffeId(), authority, issuer, entries, agents, audit, attestors, clock,
                        listeners));
        resources.push(agentApi);

        JobRunner jobs = new JobRunner();
        resources.push(jobs);
        jobs.register(new Job("authority-rotation", TICK, () -> {
            authority.tick();
            identity.renewIfDue(x509AuthorityChanged.getAndSet(false));
            driftGates.reload();
        }));
        jobs.register(new Job("prune-expired", JOIN_TOKEN_PRUNE_INTERVAL, () -> {
            joinTokens.pruneExpired(ACTOR);
            Instant expiredBefore = clock.instant().minus(EXPIRED_TOKEN_RETENTION);
            issuedTokens.pruneExpired(expiredBefore);
            statuses.pruneExpired(expiredBefore);
        }));
        // Registration changes and bans reach issued credentials within a second (cheap when nothing changed).
        jobs.register(new Job("registration-revocations", REGISTRATION_CHECK, registrationRevocations::tick));
        // Converge with policies applied through other servers on the same datastore.
        jobs.register(new Job("policy-reload", TICK, policyStore::reload));
        // Checkpoints get their own cadence: the interval is usually shorter than the rotation tick.
        jobs.register(new Job("audit-checkpoints", Duration.ofMillis(Math.min(1000, config.audit().checkpointInterval().toMillis())),
                checkpoints::checkpointIfDue));
        config.audit().jsonlFile().ifPresent(file -> {
            AuditJsonlExporter exporter;
            try {
                exporter = AuditJsonlExporter.create(audit, file);
            } catch (RuntimeException e) {
                // The datastore is the record of truth; a damaged copy must not stop the server.
                LOG.error("audit jsonl file disabled: {}", e.getMessage(), e);
                return;
            }
            jobs.register(new Job("audit-jsonl-export", Duration.ofSeconds(1), exporter::exportNew));
        });

        LOG.info("sigil server for trust domain '{}' is running: admin socket {}, agent api {}:{}{}{}{}", config.trustDomain(),
                admin.socketPath(), agentApi.address().getHostString(), agentApi.address().getPort(),
                tokenEndpoint.map(t -> ", token endpoint https://" + t.address().getHostString() + ":" + t.address().getPort()).orElse(""),
                admin.tcpAddress().map(a -> ", admin mtls " + a.getHostString() + ":" + a.getPort()).orElse(""),
                bundleEndpoint.map(b -> ", bundle endpoint https://" + b.address().getHostString() + ":" + b.address().getPort())
                        .orElse(""));
        return new SigilServer(resources, authority, admin, bundleEndpoint, identity, agentApi, tokenEndpoint, tokenSettings,
                policy, leases);
    }

    private static AuthorityConfig authorityConfig(ServerConfig config) {
        AuthorityConfig authority = AuthorityConfig.defaults(config.trustDomain())
                .withCaKeyType(config.ca().keyType())
                .withCaTtl(config.ca().ttl())
                .withJwtKeyType(config.jwt().keyType())
                .withJwtKeyTtl(config.jwt().keyTtl())
                .withJwtIssuer(config.jwtIssuer().toString())
                .withBundleRefreshHint(config.bundleEndpoint().refreshHint());
        if (config.ca().upstream().isPresent()) {
            authority = authority.withUpstream(Upstreams.load(config.ca().upstream().get()));
        }
        return authority;
    }

    private static boolean isAdmin(EntryStore entries, SpiffeId id) {
        return entries.list(EntryFilter.all().withSpiffeId(id), PageRequest.first(PageRequest.MAX_SIZE)).items().stream()
                .anyMatch(RegistrationEntry::admin);
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

    /** Keeps {@link UpstreamCa} loading next to the rest of the wiring. */
    private static final class Upstreams {
        static UpstreamCa load(ServerConfig.UpstreamSettings settings) {
            UpstreamCa upstream = UpstreamCa.load(settings.certFile(), settings.keyFile());
            if (settings.bundleFile().isEmpty()) {
                return upstream;
            }
            java.util.List<java.security.cert.X509Certificate> chain = new java.util.ArrayList<>(upstream.chain());
            chain.addAll(dev.sigil.core.crypto.Pem.parseCertificates(readFile(settings.bundleFile().get()),
                    "ca.upstream.bundle_file " + settings.bundleFile().get()));
            return new UpstreamCa(chain, upstream.signer());
        }

        private static String readFile(java.nio.file.Path path) {
            try {
                return java.nio.file.Files.readString(path);
            } catch (java.io.IOException e) {
                throw new dev.sigil.core.SigilException("cannot read " + path + ": " + e.getMessage(), e);
            }
        }
    }
}
