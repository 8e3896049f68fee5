package dev.sigil.agent.server;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A registration entry this agent is authorized to serve, as synced from the server.
 *
 * @param expiresAt when the entry itself stops being valid; empty when it does not expire
 */
public record RegistrationEntry(String id, long revision, SpiffeId spiffeId, SpiffeId parentId, Set<Selector> selectors,
                                Duration x509SvidTtl, Duration jwtSvidTtl, List<String> dnsNames, String hint,
                                Optional<Instant> expiresAt, Set<TrustDomain> federatesWith, boolean admin) {
    public RegistrationEntry {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("entry id is empty");
        }
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(parentId, "parentId");
        selectors = Set.copyOf(selectors);
        Objects.requireNonNull(x509SvidTtl, "x509SvidTtl");
        Objects.requireNonNull(jwtSvidTtl, "jwtSvidTtl");
        dnsNames = List.copyOf(dnsNames);
        hint = hint == null ? "" : hint;
        Objects.requireNonNull(expiresAt, "expiresAt");
        federatesWith = Set.copyOf(federatesWith);
    }

    /** True when a workload with {@code workloadSelectors} may have this entry's identity (subset match). */
    public boolean matches(Set<Selector> workloadSelectors) {
        return !selectors.isEmpty() && workloadSelectors.containsAll(selectors);
    }

    public boolean expiredAt(Instant now) {
        return expiresAt.map(at -> !now.isBefore(at)).orElse(false);
    }
}
