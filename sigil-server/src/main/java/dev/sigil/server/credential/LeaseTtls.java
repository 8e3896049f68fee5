package dev.sigil.server.credential;

import dev.sigil.core.time.Durations;
import dev.sigil.server.config.ConfigException;
import java.time.Duration;

/**
 * A broker's lease lifetimes: {@code default_ttl} (default 15m, at least 1s) when a request names none, and
 * {@code max_ttl} (default 1h, at least the default) that no lease outlives, renewals included.
 */
public record LeaseTtls(Duration defaultTtl, Duration maxTtl) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(1);

    /**
     * The lifetimes configured for broker {@code type} ({@code null} for an absent key), defaults applied;
     * refuses, naming {@code brokers.<type>.<key>}, what no lease could honour.
     */
    public static LeaseTtls of(String type, Duration defaultTtl, Duration maxTtl) {
        Duration ttl = defaultTtl == null ? DEFAULT_TTL : defaultTtl;
        Duration max = maxTtl == null ? DEFAULT_MAX_TTL : maxTtl;
        if (ttl.toSeconds() < 1) {
            throw new ConfigException("brokers." + type + ".default_ttl is " + Durations.format(ttl) + "; it must be at least 1s");
        }
        if (max.isNegative() || max.isZero()) {
            throw new ConfigException("brokers." + type + ".max_ttl is " + Durations.format(max) + "; it must be longer than zero");
        }
        if (max.compareTo(ttl) < 0) {
            throw new ConfigException("brokers." + type + ".max_ttl (" + Durations.format(max) + ") must be at least default_ttl ("
                    + Durations.format(ttl) + ")");
        }
        return new LeaseTtls(ttl, max);
    }
}
