package dev.sigil.server.credential;

import java.time.Duration;
import java.util.Objects;

/**
 * A broker as configured: the broker and the lifetimes of its leases. A lease gets {@code defaultTtl}
 * unless it asks for another; it never lives (renewals included) beyond {@code maxTtl} after issue.
 *
 * @param requestable whether workloads may ask for its credentials by name through the lease service
 *                    ({@code POST /v1/credentials}, brokered token exchange); false for a broker with a
 *                    front door of its own (access tokens: token exchange decides their scopes under
 *                    action {@code token:exchange}), whose leases the service still lists and revokes
 */
public record ConfiguredBroker(Broker broker, Duration defaultTtl, Duration maxTtl, boolean requestable) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(1);

    public ConfiguredBroker {
        Objects.requireNonNull(broker, "broker");
        if (defaultTtl == null || defaultTtl.toSeconds() < 1) {
            throw new IllegalArgumentException("brokers." + broker.type() + ".default_ttl is " + defaultTtl + "; it must be at least 1s");
        }
        if (maxTtl == null || maxTtl.compareTo(defaultTtl) < 0) {
            throw new IllegalArgumentException("brokers." + broker.type() + ".max_ttl is " + maxTtl
                    + "; it must be at least default_ttl (" + defaultTtl + ")");
        }
    }

    /** A broker workloads may request by name. */
    public ConfiguredBroker(Broker broker, Duration defaultTtl, Duration maxTtl) {
        this(broker, defaultTtl, maxTtl, true);
    }

    public String name() {
        return broker.type();
    }
}
