package dev.sigil.server;

import dev.sigil.core.observability.MetricsListener;
import dev.sigil.core.observability.Readiness;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.metrics.ServerMetrics;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** The metrics and health listener (docs/observability.md), started last, once everything it reports on runs. */
final class Observability {
    private Observability() {
    }

    static MetricsListener start(ServerConfig config, Clock clock, ServerMetrics metrics, Foundation foundation, Identities identities,
                                 Grants grants) {
        metrics.leases(Arrays.stream(LeaseState.values()).map(LeaseState::wireName).collect(Collectors.toUnmodifiableSet()),
                () -> {
                    Map<String, Long> counts = new LinkedHashMap<>();
                    grants.leases().store().countByState().forEach((state, count) -> counts.put(state.wireName(), count));
                    return counts;
                },
                () -> grants.leases().store().failingRevocations());
        return MetricsListener.start("server", config.metrics().orElseThrow(), metrics::scrape,
                () -> readiness(clock, foundation, identities));
    }

    /** Ready: the datastore answers and the authority can sign (an X.509 CA, and a JWT key valid now). */
    static Readiness readiness(Clock clock, Foundation foundation, Identities identities) {
        if (!foundation.datastore().healthy()) {
            return new Readiness.NotReady("the datastore does not answer");
        }
        if (identities.authority().bundle().x509Authorities().isEmpty()
                || !identities.authority().jwtSigningDeadline().isAfter(clock.instant())) {
            return new Readiness.NotReady("no active authority can sign");
        }
        return new Readiness.Ready();
    }
}
