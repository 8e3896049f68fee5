package dev.sigil.server.metrics;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value read from an expensive source at most once per {@code maxAge} (for gauges scraped often):
 * a failed read keeps the last value and is retried at the next refresh.
 */
final class CachedValue<T> {
    private static final Logger LOG = LoggerFactory.getLogger(CachedValue.class);

    private final Supplier<T> source;
    private final Clock clock;
    private final Duration maxAge;
    private T value;
    private Instant readAt = Instant.MIN;

    CachedValue(Supplier<T> source, Clock clock, Duration maxAge, T initial) {
        this.source = source;
        this.clock = clock;
        this.maxAge = maxAge;
        this.value = initial;
    }

    synchronized T get() {
        Instant now = clock.instant();
        if (readAt.plus(maxAge).isAfter(now)) {
            return value;
        }
        readAt = now;
        try {
            value = source.get();
        } catch (RuntimeException e) {
            LOG.warn("cannot refresh a metric from the datastore: {}", e.getMessage());
        }
        return value;
    }
}
