package dev.sigil.server.metrics;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.http.RequestObserver;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
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
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server's metrics registry and the meters fed into it. Created by the composition root only when
 * the {@code metrics} listener is configured; without it nothing is measured and the hot paths carry
 * no extra work.
 *
 * <p>Cost on the hot path: a request or an audit record costs a map lookup of a small key and an
 * increment; nothing here blocks or queries. Lease gauges read the store at most every
 * {@link #GAUGE_REFRESH} on scrape.
 */
public final class ServerMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerMetrics.class);
    /** How stale a gauge read from the datastore (leases by state) may be. */
    public static final Duration GAUGE_REFRESH = Duration.ofSeconds(5);

    /** Latency histogram buckets of HTTP requests ({@code _bucket{le}}), for quantiles across servers. */
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Clock clock;

    private ServerMetrics(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    public static ServerMetrics create(Clock clock) {
        return new ServerMetrics(clock);
    }

    /** Everything measured, in the Prometheus text format. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Requests of one HTTP listener as {@code sigil_http_server_requests_seconds} (a timer: count, sum,
     * max and latency buckets) labelled {@code listener}, {@code method}, {@code route} (a template from the listener's
     * fixed set) and {@code status}.
     */
    public RequestObserver http(String listener) {
        Map<String, Timer> timers = new ConcurrentHashMap<>();
        return (method, route, status, nanos) -> timers.computeIfAbsent(method + ' ' + route + ' ' + status,
                        key -> Timer.builder("sigil.http.server.requests")
                                .description("HTTP requests by listener, route template and status")
                                .tags("listener", listener, "method", method, "route", route, "status", Integer.toString(status))
                                .serviceLevelObjectives(LATENCY_BUCKETS)
                                .register(registry))
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * Counts what {@code trail} records once it is recorded ({@link MeteredAuditTrail}): SVIDs issued,
     * exchanges allowed and denied, attestations, drift events, lease revocations.
     *
     * @param attestorTypes the configured node attestor types: the only values of the {@code attestor} label besides {@code other}
     */
    public AuditTrail metered(AuditTrail trail, Set<String> attestorTypes) {
        return new MeteredAuditTrail(trail, new AuditMeters(registry, attestorTypes));
    }

    /**
     * A gRPC interceptor measuring the agent API by service, method and status code
     * ({@code grpc_server_processing_duration_seconds}, Micrometer's gRPC binder; methods are those
     * the server registered, so the label set is bounded).
     */
    public ServerInterceptor grpc() {
        return new MetricCollectingServerInterceptor(registry);
    }

    /** The datastore pool (HikariCP's meters: active, idle and pending connections; acquire and usage time). */
    public void datastore(Datastore datastore) {
        if (datastore.dataSource() instanceof HikariDataSource hikari) {
            try {
                hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
            } catch (RuntimeException e) {
                LOG.warn("datastore pool metrics are unavailable: {}", e.getMessage());
            }
        }
    }

    /**
     * Leases by state ({@code sigil_leases{state}}) and revocations failing ({@code sigil_lease_revocations_failing}),
     * read from {@code counts} and {@code failing} at most every {@link #GAUGE_REFRESH}.
     *
     * @param states every lease state's wire name (the label's fixed set)
     */
    public void leases(Set<String> states, Supplier<Map<String, Long>> counts, Supplier<Long> failing) {
        CachedValue<Map<String, Long>> byState = new CachedValue<>(counts, clock, GAUGE_REFRESH, Map.of());
        for (String state : states) {
            Gauge.builder("sigil.leases", byState, cached -> cached.get().getOrDefault(state, 0L))
                    .description("Leases by state (revoking: the revocation backlog)").tag("state", state).register(registry);
        }
        CachedValue<Long> failingNow = new CachedValue<>(failing, clock, GAUGE_REFRESH, 0L);
        Gauge.builder("sigil.lease.revocations.failing", failingNow, cached -> cached.get())
                .description("Revoking leases whose backend revocation failed at least once").register(registry);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
