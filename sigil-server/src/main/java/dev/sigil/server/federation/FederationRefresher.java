package dev.sigil.server.federation;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every federated bundle fresh, on every server (each refreshes; the store makes the writes
 * idempotent, so N servers mean N fetches per interval, not N audit records). {@link #tick} runs every
 * second: it reloads the relationships from the datastore (the truth, so a relationship created through
 * another server is seen within a second), publishes their last good bundles as {@link FederatedBundles},
 * and starts a fetch, on its own virtual thread, for each relationship that is due and not already being
 * fetched: one refresher per relationship, so a slow endpoint delays no other.
 *
 * <p>When: at once for a new relationship or a changed one (new revision); after a success, after the
 * fetched bundle's {@code spiffe_refresh_hint} clamped to [{@code minInterval}, {@code maxInterval}]
 * ({@link #DEFAULT_INTERVAL} without a hint); after a failure, with exponential backoff from one second
 * up to that interval. A failed refresh keeps the last good bundle in use.
 */
public final class FederationRefresher implements FederatedBundles, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FederationRefresher.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(5);
    public static final Duration DEFAULT_MIN_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_INTERVAL = Duration.ofHours(1);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    /** When the next fetch of one relationship is due, as this server schedules it. */
    private record Schedule(long revision, Instant due, int failures) {
    }

    private final FederationStore store;
    private final BundleFetcher fetcher;
    private final Clock clock;
    private final Duration minInterval;
    private final Duration maxInterval;
    private final ExecutorService fetches = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<TrustDomain, Schedule> schedules = new ConcurrentHashMap<>();
    private final Set<TrustDomain> inFlight = ConcurrentHashMap.newKeySet();
    private volatile Map<TrustDomain, SpiffeBundle> bundles = Map.of();

    /**
     * @param webRoots    roots for https_web endpoints; empty: the JDK's trusted roots
     * @param minInterval the shortest refresh interval a remote hint can ask for
     */
    public FederationRefresher(FederationStore store, Optional<List<java.security.cert.X509Certificate>> webRoots, Clock clock,
                               Duration minInterval, Duration maxInterval) {
        this(store, new BundleFetcher(webRoots, clock), clock, minInterval, maxInterval);
    }

    FederationRefresher(FederationStore store, BundleFetcher fetcher, Clock clock, Duration minInterval, Duration maxInterval) {
        this.store = Objects.requireNonNull(store, "store");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (minInterval.isNegative() || minInterval.isZero() || maxInterval.compareTo(minInterval) < 0) {
            throw new IllegalArgumentException("federation refresh bounds " + minInterval + ".." + maxInterval
                    + " must be positive with the minimum not above the maximum");
        }
        this.minInterval = minInterval;
        this.maxInterval = maxInterval;
    }

    @Override
    public Map<TrustDomain, SpiffeBundle> all() {
        return bundles;
    }

    /** Reloads the relationships, publishes their bundles and starts the fetches that are due. */
    public void tick() {
        List<FederationRelationship> relationships = store.list();
        publish(relationships);
        Instant now = clock.instant();
        Set<TrustDomain> present = new HashSet<>();
        for (FederationRelationship relationship : relationships) {
            TrustDomain trustDomain = relationship.trustDomain();
            present.add(trustDomain);
            Schedule schedule = schedules.get(trustDomain);
            if (schedule == null || schedule.revision() != relationship.revision()) {
                schedule = new Schedule(relationship.revision(), now, 0);
                schedules.put(trustDomain, schedule);
            }
            if (!schedule.due().isAfter(now) && inFlight.add(trustDomain)) {
                Schedule scheduled = schedule;
                try {
                    fetches.execute(() -> refresh(relationship, scheduled));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    inFlight.remove(trustDomain);
                }
            }
        }
        schedules.keySet().retainAll(present);
    }

    /** Fetches one relationship's bundle now and records the outcome; the next due time follows from it. */
    void refresh(FederationRelationship relationship, Schedule schedule) {
        TrustDomain trustDomain = relationship.trustDomain();
        try {
            SpiffeBundle fetched = fetcher.fetch(relationship);
            Instant at = clock.instant();
            if (store.recordRefresh(trustDomain, fetched, at)) {
                LOG.info("federated bundle of {} updated to sequence {}", trustDomain, fetched.sequence());
                Map<TrustDomain, SpiffeBundle> next = new HashMap<>(bundles);
                next.put(trustDomain, fetched);
                bundles = Map.copyOf(next);
            }
            schedules.computeIfPresent(trustDomain, (td, current) -> current.revision() == schedule.revision()
                    ? new Schedule(schedule.revision(), at.plus(interval(fetched.refreshHint())), 0) : current);
        } catch (BundleFetcher.FetchFailure e) {
            Instant at = clock.instant();
            if (store.recordFailure(trustDomain, e.getMessage(), at)) {
                LOG.warn("federated bundle of {} cannot be refreshed, keeping the last good one: {}", trustDomain, e.getMessage());
            }
            int failures = schedule.failures() + 1;
            schedules.computeIfPresent(trustDomain, (td, current) -> current.revision() == schedule.revision()
                    ? new Schedule(schedule.revision(), at.plus(backoff(failures, relationship.bundle().flatMap(SpiffeBundle::refreshHint))),
                    failures) : current);
        } catch (RuntimeException e) {
            LOG.error("refreshing the federated bundle of {} failed", trustDomain, e);
            schedules.computeIfPresent(trustDomain, (td, current) -> new Schedule(current.revision(),
                    clock.instant().plus(backoff(schedule.failures() + 1, Optional.empty())), schedule.failures() + 1));
        } finally {
            inFlight.remove(trustDomain);
        }
    }

    /** The refresh interval for a bundle's hint: the hint clamped to the bounds, or the default. */
    Duration interval(Optional<Duration> hint) {
        Duration wanted = hint.orElse(DEFAULT_INTERVAL);
        if (wanted.compareTo(minInterval) < 0) {
            return minInterval;
        }
        return wanted.compareTo(maxInterval) > 0 ? maxInterval : wanted;
    }

    /** One second, doubling with each consecutive failure, never beyond the refresh interval. */
    Duration backoff(int failures, Optional<Duration> hint) {
        Duration ceiling = interval(hint);
        Duration delay = FIRST_BACKOFF.multipliedBy(1L << Math.min(20, Math.max(0, failures - 1)));
        return delay.compareTo(ceiling) > 0 ? ceiling : delay;
    }

    private void publish(List<FederationRelationship> relationships) {
        Map<TrustDomain, SpiffeBundle> next = new HashMap<>();
        for (FederationRelationship relationship : relationships) {
            relationship.bundle().ifPresent(bundle -> next.put(relationship.trustDomain(), bundle));
        }
        if (!next.equals(bundles)) {
            bundles = Map.copyOf(next);
        }
    }

    @Override
    public void close() {
        fetches.shutdownNow();
    }
}
