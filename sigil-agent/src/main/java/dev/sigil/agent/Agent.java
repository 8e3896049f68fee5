package dev.sigil.agent;

import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.cache.EntrySync;
import dev.sigil.agent.cache.SvidCache;
import dev.sigil.agent.cache.WorkloadSigner;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.server.AgentCredentials;
import dev.sigil.agent.server.AgentServerClient;
import dev.sigil.agent.server.AgentServerClient.SignRequest;
import dev.sigil.agent.server.AgentServerException;
import dev.sigil.agent.server.AgentSvid;
import dev.sigil.agent.server.AgentSvidStore;
import dev.sigil.agent.server.MintedJwt;
import dev.sigil.agent.server.MintedWit;
import dev.sigil.agent.server.NodeKeys;
import dev.sigil.agent.server.SignResult;
import dev.sigil.agent.server.SpiffeServerTrust;
import dev.sigil.agent.workload.WorkloadIdentities;
import dev.sigil.core.SigilException;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's composition root: attests the node, keeps the agent SVID renewed, syncs entries and
 * keeps workload SVIDs fresh, and exposes them to the Workload API as {@link #identities()}.
 *
 * <p>Lifecycle: {@link #start()} attests (throwing when the server refuses; retrying with
 * {@link RetryBackoff} while no server answers, as SPIRE's agent does), runs one {@link #tick()}
 * and then ticks every {@code sync_interval}. A tick renews the agent SVID once about half its lifetime
 * has passed (50% ±10% jitter, by the injected clock), syncs entries, and signs due workload SVIDs.
 *
 * <p>When the server refuses the agent (PERMISSION_DENIED/UNAUTHENTICATED: banned, evicted, unknown)
 * or the agent SVID has expired, the agent attests again with a new key, once; when that is refused, or
 * when the attestor is single-use (join_token), the agent stops ({@link AgentState.Stopped}) with a
 * message telling the operator what to do.
 *
 * <p>The agent key, SVID and bundle are kept in {@code <data_dir>/agent-svid.json} (mode 0600, see
 * {@link AgentSvidStore}): a restarted agent resumes with them until the SVID expires, so a join_token
 * agent survives restarts; once the stored SVID has expired it must attest again (with a new token).
 * The file is deleted when the agent stops because the server refused it.
 *
 * <p>With an attestor whose evidence is continuous (tpm), the agent also renews the evidence every
 * interval the server asked for (a fresh quote); a refusal (node drift: the server has revoked what the
 * node's workloads hold and evicted the agent) makes the agent attest again, which a drifted node cannot,
 * so it stops.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final double JITTER = 0.10;

    private final AgentConfig config;
    private final NodeAttestorClient attestor;
    private final NodeEvidenceCheck nodeEvidence;
    private final Clock clock;
    private final SpiffeServerTrust trust;
    private final AgentServerClient client;
    private final SvidCache cache;
    private final EntrySync sync;
    private final AgentSvidStore store;
    private final ScheduledExecutorService ticker;
    private final RetryBackoff backoff;
    private volatile Optional<AgentCredentials> credentials = Optional.empty();
    private volatile AgentState state = new AgentState.Starting();
    private Instant renewAt = Instant.MAX;
    private boolean started;
    private java.util.concurrent.ScheduledFuture<?> evidenceRenewal;

    /**
     * @param attestor the agent side of the configured node attestation method
     * @param clock    decides renewal, rotation and expiry
     */
    private volatile Optional<Instant> lastServerContact = Optional.empty();

    public Agent(AgentConfig config, NodeAttestorClient attestor, Clock clock) {
        this(config, attestor, clock, RetryBackoff.DEFAULT);
    }

    /**
     * @param backoff how long to wait between attestation attempts while no server answers
     */
    public Agent(AgentConfig config, NodeAttestorClient attestor, Clock clock, RetryBackoff backoff) {
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.config = config;
        this.attestor = attestor;
        this.nodeEvidence = new NodeEvidenceCheck(attestor.type(), attestor.evidenceNotAfter());
        this.clock = clock;
        this.trust = new SpiffeServerTrust(config.trustDomain(), anchors(config),
                config.bootstrap() instanceof AgentConfig.TrustBootstrap.Insecure, clock);
        this.client = new AgentServerClient(config.serverAddresses(), config.trustDomain(),
                trust, () -> credentials);
        this.cache = new SvidCache(config.trustDomain(), new WorkloadSigner() {
            @Override
            public List<SignResult> batchSign(List<SignRequest> requests) {
                return client.batchSign(requests);
            }

            @Override
            public MintedJwt mintJwt(String entryId, List<String> audience) {
                return client.mintJwt(entryId, audience);
            }

            @Override
            public MintedWit mintWit(String entryId, String publicKeyJwk) {
                return client.mintWit(entryId, publicKeyJwk);
            }

            @Override
            public java.util.Optional<Boolean> tokenRevoked(String uri, long idx) {
                return client.tokenRevoked(uri, idx);
            }
        }, clock);
        this.sync = new EntrySync(client::sync, cache);
        this.store = new AgentSvidStore(config.dataDir(), config.trustDomain(), clock);
        this.ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sigil-agent-tick");
            thread.setDaemon(true);
            return thread;
        });
    }

    private static List<X509Certificate> anchors(AgentConfig config) {
        return switch (config.bootstrap()) {
            case AgentConfig.TrustBootstrap.Insecure insecure -> List.of();
            case AgentConfig.TrustBootstrap.BundleFile file -> {
                Path path = file.path();
                try {
                    yield Pem.parseCertificates(Files.readString(path, StandardCharsets.UTF_8), path.toString());
                } catch (IOException e) {
                    throw new AgentException("cannot read trust_bundle_path " + path + ": " + e.getMessage(), e);
                } catch (SigilException e) {
                    throw new AgentException("trust_bundle_path " + path + " is not usable: " + e.getMessage(), e);
                }
            }
        };
    }

    /**
     * Resumes with the stored agent SVID or attests, syncs once and starts the periodic tick.
     *
     * <p>While no server answers (unreachable, overloaded, timed out: {@link AgentServerException#retryable()})
     * attestation is retried with {@link RetryBackoff}, each failed attempt logged with the addresses and
     * the reason; this blocks until a server answers. A refusal (bad or used join token, banned agent,
     * malformed evidence) is not retried.
     *
     * @throws AgentException when the agent cannot run: attestation was refused or the server refused the
     *                        stored SVID and re-attestation is impossible (the message says what to do)
     */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("agent already started");
        }
        started = true;
        // an attestor whose evidence is renewed (tpm) attests at every start: the server must hold this run's keys
        Optional<AgentSvidStore.Stored> stored = attestor.renewsEvidence() ? Optional.empty() : store.load();
        if (stored.isPresent()) {
            install(stored.get().credentials().keys(), stored.get().credentials().svid());
            LOG.info("resuming with the stored agent svid {} (valid until {}); not attesting again",
                    stored.get().credentials().svid().spiffeId(), stored.get().credentials().svid().notAfter());
        } else {
            try {
                attestRetrying();
            } catch (AgentServerException e) {
                String reason = "node attestation failed: " + e.getMessage()
                        + (e.denied() && singleUse() ? "; a join token is single-use: generate a new one ('sigil token generate') and restart the agent" : "");
                stop(reason);
                throw new AgentException(reason, e);
            }
        }
        tick();
        if (state instanceof AgentState.Stopped stopped) {
            throw new AgentException(stopped.reason());
        }
        long period = config.syncInterval().toMillis();
        ticker.scheduleWithFixedDelay(this::tickQuietly, period, period, TimeUnit.MILLISECONDS);
        scheduleEvidenceRenewal();
    }

    private synchronized void scheduleEvidenceRenewal() {
        if (evidenceRenewal != null || ticker.isShutdown()) {
            return;
        }
        attestor.continuous().ifPresent(continuous -> {
            long interval = continuous.interval().toMillis();
            evidenceRenewal = ticker.scheduleWithFixedDelay(this::renewEvidenceQuietly, interval, interval, TimeUnit.MILLISECONDS);
        });
    }

    private void renewEvidenceQuietly() {
        try {
            renewEvidence();
        } catch (RuntimeException e) {
            LOG.warn("renewing the node's {} evidence failed; retrying in {}", attestor.type(),
                    attestor.continuous().map(c -> human(c.interval())).orElse("?"), e);
        }
    }

    /** One round of continuous node attestation (a fresh tpm quote); a refusal leads to re-attestation. */
    public synchronized void renewEvidence() {
        if (!(state instanceof AgentState.Running) || attestor.continuous().isEmpty()) {
            return;
        }
        try {
            String quoteId = client.renewEvidence(attestor.continuous().get());
            LOG.debug("node {} evidence accepted ({})", attestor.type(), quoteId);
        } catch (AgentServerException e) {
            if (!e.denied()) {
                LOG.warn("renewing the node's {} evidence failed, retrying at the next interval: {}", attestor.type(), e.getMessage());
                return;
            }
            reattest("the server refused the node's " + attestor.type() + " evidence: " + e.getMessage());
        }
    }

    /** Attests, retrying while the failure is {@link AgentServerException#retryable() retryable}. */
    private void attestRetrying() {
        for (int attempt = 1; ; attempt++) {
            try {
                attest();
                return;
            } catch (AgentServerException e) {
                if (!e.retryable()) {
                    throw e;
                }
                Duration delay = backoff.after(attempt);
                LOG.warn("node attestation attempt {} failed: {}; retrying in {}", attempt, e.getMessage(), human(delay));
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new AgentServerException("interrupted while waiting to attest again; last failure: " + e.getMessage(), false, e);
                }
                client.resetConnectBackoff();
            }
        }
    }

    private static String human(Duration delay) {
        return delay.toMillis() % 1000 == 0 ? delay.toSeconds() + "s" : delay.toMillis() + "ms";
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warn("agent tick failed; retrying in {}", config.syncInterval(), e);
        }
    }

    /**
     * One round of periodic work: renew or re-attest when due, sync entries, sign due SVIDs. Server
     * failures other than refusals are logged and retried at the next tick.
     */
    public synchronized void tick() {
        if (!(state instanceof AgentState.Running)) {
            return;
        }
        try {
            Instant now = clock.instant();
            nodeEvidence.check(now);
            AgentSvid svid = credentials.orElseThrow().svid();
            if (!now.isBefore(svid.notAfter())) {
                if (!reattest("the agent svid expired at " + svid.notAfter())) {
                    return;
                }
            } else if (!now.isBefore(renewAt)) {
                renew();
            }
            syncAndSign();
        } catch (AgentServerException e) {
            if (!e.denied()) {
                LOG.warn("server call failed, retrying at the next tick: {}", e.getMessage());
                return;
            }
            if (!reattest("the server refused the agent: " + e.getMessage())) {
                return;
            }
            try {
                syncAndSign();
            } catch (AgentServerException again) {
                if (again.denied()) {
                    stop("the server refused the agent again right after re-attestation: " + again.getMessage());
                } else {
                    LOG.warn("server call failed after re-attestation, retrying at the next tick: {}", again.getMessage());
                }
            }
        }
    }

    private void syncAndSign() {
        sync.syncOnce();
        lastServerContact = Optional.of(clock.instant());
        trust.updateAnchors(cache.bundles().own().x509Authorities());
        cache.rotateDue();
    }

    /** When a sync with the server last succeeded (for readiness: the server was reachable recently). */
    public Optional<Instant> lastServerContact() {
        return lastServerContact;
    }

    /** Attests again unless the attestor is single-use; true when the agent holds a fresh SVID. */
    private boolean reattest(String why) {
        if (singleUse()) {
            stop(why + "; the agent attested with a join token, which is single-use: generate a new token "
                    + "('sigil token generate') and restart the agent with it");
            return false;
        }
        LOG.warn("{}; attesting again with the {} attestor", why, attestor.type());
        try {
            attest();
            return true;
        } catch (AgentServerException e) {
            if (e.denied()) {
                stop(why + "; re-attestation was refused too: " + e.getMessage());
            } else {
                LOG.warn("re-attestation failed, retrying at the next tick: {}", e.getMessage());
            }
            return false;
        }
    }

    private boolean singleUse() {
        return attestor.singleUse();
    }

    private void attest() {
        KeyPair keys = NodeKeys.generate();
        AgentSvid svid = client.attest(attestor, NodeKeys.csr(keys));
        install(keys, svid);
        LOG.info("node attested with {} as {} (agent svid valid until {})", attestor.type(), svid.spiffeId(), svid.notAfter());
    }

    private void renew() {
        KeyPair keys = NodeKeys.generate();
        AgentSvid svid = client.renew(NodeKeys.csr(keys));
        install(keys, svid);
        LOG.info("agent svid renewed for {} (valid until {})", svid.spiffeId(), svid.notAfter());
    }

    private void install(KeyPair keys, AgentSvid svid) {
        AgentCredentials fresh;
        try {
            fresh = new AgentCredentials(keys, svid);
        } catch (IllegalArgumentException e) {
            throw new AgentServerException(e.getMessage(), false, e);
        }
        credentials = Optional.of(fresh);
        client.reconnect();
        svid.bundle().ifPresent(bundle -> {
            cache.updateBundle(bundle);
            trust.updateAnchors(bundle.x509Authorities());
        });
        try {
            store.save(fresh, cache.bundles().own());
        } catch (AgentException e) {
            LOG.warn("{}; a restart will have to attest again", e.getMessage());
        }
        renewAt = renewalTime(svid.notBefore(), svid.notAfter(), ThreadLocalRandom.current().nextDouble(-JITTER, JITTER));
        state = new AgentState.Running(svid.spiffeId(), svid.notAfter());
    }

    /** Half the lifetime after {@code notBefore}, moved by {@code jitter} (a fraction of the lifetime). */
    static Instant renewalTime(Instant notBefore, Instant notAfter, double jitter) {
        Duration lifetime = Duration.between(notBefore, notAfter);
        return notBefore.plusMillis((long) (lifetime.toMillis() * (0.5 + jitter)));
    }

    private void stop(String reason) {
        if (!(state instanceof AgentState.Stopped)) {
            LOG.error("agent stopped: {}", reason);
        }
        state = new AgentState.Stopped(reason);
        credentials = Optional.empty();
        store.delete();
        ticker.shutdown();
    }

    /** What the Workload API serves. */
    public WorkloadIdentities identities() {
        return cache;
    }

    /** The SVID cache, for its counters. */
    public SvidCache cache() {
        return cache;
    }

    public AgentState state() {
        return state;
    }

    /**
     * One attempt to report a workload drift to the server (see {@link dev.sigil.agent.drift.DriftReporter},
     * which retries); {@code reportId} is the same for every attempt of one drift.
     */
    public dev.sigil.agent.server.DriftDelivery reportDrift(String reportId, dev.sigil.agent.workload.WorkloadDrift drift) {
        if (credentials.isEmpty()) {
            return new dev.sigil.agent.server.DriftDelivery.Failed("the agent is not attested yet");
        }
        return client.reportDrift(reportId, drift);
    }

    /** Whether the node's attestation evidence is still acceptable, as of the last tick. */
    public NodeEvidence nodeEvidence() {
        return nodeEvidence.status();
    }

    /** The agent's current SVID (public material), when attested. */
    public Optional<AgentSvid> svid() {
        return credentials.map(AgentCredentials::svid);
    }

    /** The SVID cache's view of this trust domain's bundle. */
    public SpiffeBundle bundle() {
        return cache.bundles().own();
    }

    public AgentConfig config() {
        return config;
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        try {
            ticker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        if (!(state instanceof AgentState.Stopped)) {
            state = new AgentState.Stopped("closed");
        }
    }
}
