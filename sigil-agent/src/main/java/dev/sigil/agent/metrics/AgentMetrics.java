package dev.sigil.agent.metrics;

import dev.sigil.agent.Agent;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.drift.DriftReporter;
import dev.sigil.core.observability.MetricsListener;
import dev.sigil.core.observability.MetricsListenerSettings;
import dev.sigil.core.observability.Readiness;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The agent's metrics and its metrics and health listener (docs/observability.md), created only when
 * {@code metrics} is configured. Label values are bounded: Workload API methods are the services'
 * own (Micrometer's gRPC binder, per registered method), drift outcomes a fixed set; no label carries
 * a SPIFFE ID, a selector or anything a workload sent.
 *
 * <p>Ready means: the agent runs, holds an agent SVID valid now, and synced with the server within
 * {@link #recentContact} (three sync intervals, at least 30 s).
 */
public final class AgentMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Agent agent;
    private final Clock clock;
    private final Duration recentContact;
    private MetricsListener listener;

    private AgentMetrics(Agent agent, Clock clock) {
        this.agent = agent;
        this.clock = clock;
        Duration threeSyncs = agent.config().syncInterval().multipliedBy(3);
        this.recentContact = threeSyncs.compareTo(Duration.ofSeconds(30)) > 0 ? threeSyncs : Duration.ofSeconds(30);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        Gauge.builder("sigil.agent.identities", agent, a -> a.cache().identityCount())
                .description("Workload identities the agent holds SVIDs for").register(registry);
        Gauge.builder("sigil.agent.svid.expiry", agent, a -> secondsUntilExpiry(a, clock)).baseUnit("seconds")
                .description("Time until the agent's own SVID expires (negative when expired or absent)").register(registry);
        Gauge.builder("sigil.agent.server.contact.age", agent, a -> a.lastServerContact()
                        .map(at -> Duration.between(at, clock.instant()).toMillis() / 1000.0).orElse(Double.NaN))
                .baseUnit("seconds").description("Time since the last successful sync with the server").register(registry);
    }

    /**
     * Starts measuring {@code agent} and serves the listener of {@code settings}.
     *
     * @param drifts the drift reports the agent queues for the server
     */
    public static AgentMetrics start(Agent agent, DriftReporter drifts, MetricsListenerSettings settings, Clock clock) {
        AgentMetrics metrics = new AgentMetrics(agent, clock);
        FunctionCounter.builder("sigil.agent.drift.reports", drifts, DriftReporter::delivered).tag("outcome", "delivered")
                .description("Workload drift reports by outcome").register(metrics.registry);
        FunctionCounter.builder("sigil.agent.drift.reports", drifts, DriftReporter::dropped).tag("outcome", "dropped")
                .description("Workload drift reports by outcome").register(metrics.registry);
        Gauge.builder("sigil.agent.drift.reports.pending", drifts, DriftReporter::pending)
                .description("Workload drift reports waiting for the server").register(metrics.registry);
        metrics.listener = MetricsListener.start("agent", settings, metrics.registry::scrape, metrics::readiness);
        return metrics;
    }

    /** Measures Workload API calls by service, method and status code ({@code grpc_server_processing_duration_seconds}). */
    public ServerInterceptor grpc() {
        return new MetricCollectingServerInterceptor(registry);
    }

    /** Where the listener is bound. */
    public java.net.InetSocketAddress address() {
        return listener.address();
    }

    Readiness readiness() {
        Instant now = clock.instant();
        if (!(agent.state() instanceof AgentState.Running running)) {
            return new Readiness.NotReady(agent.state() instanceof AgentState.Stopped ? "the agent has stopped" : "the agent is not attested yet");
        }
        if (!running.notAfter().isAfter(now)) {
            return new Readiness.NotReady("the agent svid expired at " + running.notAfter());
        }
        Optional<Instant> contact = agent.lastServerContact();
        if (contact.isEmpty() || contact.get().plus(recentContact).isBefore(now)) {
            return new Readiness.NotReady("no successful sync with the server in the last " + recentContact.toSeconds() + "s");
        }
        return new Readiness.Ready();
    }

    private static double secondsUntilExpiry(Agent agent, Clock clock) {
        return agent.svid().map(svid -> Duration.between(clock.instant(), svid.notAfter()).toMillis() / 1000.0).orElse(-1.0);
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close();
        }
        gc.close();
        registry.close();
    }
}
