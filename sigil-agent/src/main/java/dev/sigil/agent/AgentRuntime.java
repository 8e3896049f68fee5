package dev.sigil.agent;

import dev.sigil.agent.attestor.NodeAttestorClients;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.drift.DriftReporter;
import dev.sigil.agent.metrics.AgentMetrics;
import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.agent.workload.WorkloadApiServer;
import dev.sigil.agent.workload.WorkloadAttestorPlugin;
import dev.sigil.agent.workload.WorkloadAttestors;
import dev.sigil.core.plugin.PluginRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running agent process: the {@link Agent} (attestation, renewal, sync, SVID cache) and the SPIFFE
 * Workload API server that serves its identities to local workloads. When the agent stops for good
 * (refused by the server and unable to re-attest), the Workload API is shut down with it, so no
 * workload keeps receiving identities from an agent the server no longer trusts.
 */
public final class AgentRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentRuntime.class);
    private static final Path PROC = Path.of("/proc");
    private static final Path ETC = Path.of("/etc");

    private final Agent agent;
    private final WorkloadApiServer workloadApi;
    private final DriftReporter drifts;
    private final ScheduledExecutorService watcher;
    private final CompletableFuture<String> stopped = new CompletableFuture<>();

    private final java.util.Optional<AgentMetrics> metrics;

    private AgentRuntime(Agent agent, WorkloadApiServer workloadApi, DriftReporter drifts, java.util.Optional<AgentMetrics> metrics) {
        this.agent = agent;
        this.metrics = metrics;
        this.workloadApi = workloadApi;
        this.drifts = drifts;
        this.watcher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sigil-agent-watch");
            thread.setDaemon(true);
            return thread;
        });
        watcher.scheduleWithFixedDelay(this::watch, 1, 1, TimeUnit.SECONDS);
    }

    /** Attests, starts the Workload API, and returns once both run; throws {@link AgentException} when attestation fails. */
    public static AgentRuntime start(AgentConfig config, Clock clock) {
        Agent agent = new Agent(config, attestor(config), clock);
        DriftReporter drifts = DriftReporter.create(agent::reportDrift);
        java.util.Optional<AgentMetrics> metrics = java.util.Optional.empty();
        try {
            agent.start();
            metrics = config.metrics().map(settings -> AgentMetrics.start(agent, drifts, settings, clock));
            WorkloadApiConfig api = WorkloadApiConfig.defaults().withSocketPath(config.workloadApiSocket())
                    .withReattestInterval(config.workloadReattestInterval());
            WorkloadApiServer server = WorkloadApiServer.create(api, agent.identities(),
                    WorkloadAttestors.create(config.workloadAttestors(), PluginRegistry.installed(),
                            new WorkloadAttestorPlugin.Context(PROC, ETC)), drifts, clock)
                    .observedBy(metrics.map(m -> java.util.List.of(m.grpc())).orElse(java.util.List.of())).start();
            return new AgentRuntime(agent, server, drifts, metrics);
        } catch (RuntimeException e) {
            metrics.ifPresent(AgentMetrics::close);
            drifts.close();
            agent.close();
            throw e;
        }
    }

    static NodeAttestorClient attestor(AgentConfig config) {
        return NodeAttestorClients.create(config.nodeAttestor(), PluginRegistry.installed());
    }

    public Agent agent() {
        return agent;
    }

    /** The drift reports waiting for the server, delivered and dropped. */
    public DriftReporter driftReporter() {
        return drifts;
    }

    /** Where the metrics and health listener is bound, when {@code metrics} is configured (docs/observability.md). */
    public java.util.Optional<java.net.InetSocketAddress> metricsAddress() {
        return metrics.map(AgentMetrics::address);
    }

    public Path workloadApiSocket() {
        return workloadApi.socketPath();
    }

    /** Completes with the reason once the runtime has stopped (agent refused, or {@link #close()}). */
    public CompletableFuture<String> stopped() {
        return stopped;
    }

    private void watch() {
        if (agent.state() instanceof AgentState.Stopped stop) {
            LOG.error("agent stopped: {}; closing the workload api", stop.reason());
            shutdown(stop.reason());
        }
    }

    private synchronized void shutdown(String reason) {
        if (stopped.isDone()) {
            return;
        }
        // The watcher is stopped last: shutdown often runs on the watcher's own thread, which shutdownNow interrupts.
        try {
            workloadApi.close();
        } finally {
            metrics.ifPresent(AgentMetrics::close);
            drifts.close();
            agent.close();
            watcher.shutdownNow();
            stopped.complete(reason);
        }
    }

    @Override
    public void close() {
        shutdown("stopped");
    }
}
