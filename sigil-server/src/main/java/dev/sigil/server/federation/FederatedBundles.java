package dev.sigil.server.federation;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import java.util.Map;
import java.util.Optional;

/**
 * The current bundles of the federated trust domains: the last good bundle of each relationship that
 * has one. Cheap to call (an in-memory snapshot refreshed from the datastore every second); a trust
 * domain without a relationship, or whose relationship has no bundle yet, has none, so nothing of it is
 * trusted (fail closed).
 */
public interface FederatedBundles {
    Map<TrustDomain, SpiffeBundle> all();

    default Optional<SpiffeBundle> bundleOf(TrustDomain trustDomain) {
        return Optional.ofNullable(all().get(trustDomain));
    }

    static FederatedBundles none() {
        return Map::of;
    }
}
