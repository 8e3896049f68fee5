package dev.sigil.agent.server;

import dev.sigil.core.bundle.SpiffeBundle;
import java.util.List;
import java.util.Optional;

/**
 * One SyncEntries answer: changed and removed entries up to {@code throughRevision}, and the bundle if
 * it changed. With {@code fullState}, {@code changed} is the agent's complete authorized set (across the
 * pages of one sync round): entries not in it are to be dropped.
 */
public record SyncPage(List<RegistrationEntry> changed, List<String> removedIds, long throughRevision, boolean more,
                       Optional<SpiffeBundle> bundle, boolean fullState, Optional<FederatedBundles> federated) {
    public SyncPage {
        changed = List.copyOf(changed);
        removedIds = List.copyOf(removedIds);
        java.util.Objects.requireNonNull(federated, "federated");
    }

    public SyncPage(List<RegistrationEntry> changed, List<String> removedIds, long throughRevision, boolean more,
                    Optional<SpiffeBundle> bundle, boolean fullState) {
        this(changed, removedIds, throughRevision, more, bundle, fullState, Optional.empty());
    }

    /** The complete set of federated bundles this agent may hold, replacing what it held, and its digest. */
    public record FederatedBundles(java.util.Map<dev.sigil.core.spiffeid.TrustDomain, SpiffeBundle> bundles, String digest) {
        public FederatedBundles {
            bundles = java.util.Map.copyOf(bundles);
            java.util.Objects.requireNonNull(digest, "digest");
        }
    }
}
