package dev.sigil.cli;

import dev.sigil.agent.workload.WorkloadIdentities;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory {@link WorkloadIdentities}, as the agent's SVID cache would answer: an entry gives its
 * X.509 identity to a caller holding all of its selectors; JWT-SVIDs are signed on demand by the trust
 * domain's key for the matching identities.
 */
final class FakeWorkloadIdentities implements WorkloadIdentities {
    record Entry(Set<Selector> selectors, X509Identity identity) {
    }

    private final TestTrustDomain domain;
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean synced = true;
    private volatile List<Entry> entries = List.of();
    private volatile Map<TrustDomain, SpiffeBundle> federated = Map.of();

    FakeWorkloadIdentities(TestTrustDomain domain) {
        this.domain = domain;
    }

    void setSynced(boolean value) {
        synced = value;
        listeners.forEach(Runnable::run);
    }

    void setEntries(Entry... newEntries) {
        entries = List.of(newEntries);
        listeners.forEach(Runnable::run);
    }

    void setFederated(Map<TrustDomain, SpiffeBundle> bundles) {
        federated = Map.copyOf(bundles);
        listeners.forEach(Runnable::run);
    }

    @Override
    public boolean synced() {
        return synced;
    }

    @Override
    public List<X509Identity> x509Svids(Set<Selector> selectors) {
        return entries.stream().filter(e -> selectors.containsAll(e.selectors())).map(Entry::identity).toList();
    }

    @Override
    public Bundles bundles() {
        return new Bundles(domain.bundle(), federated);
    }

    @Override
    public List<JwtIdentity> jwtSvids(Set<Selector> selectors, List<String> audience, Optional<SpiffeId> spiffeId) {
        return x509Svids(selectors).stream()
                .map(X509Identity::spiffeId)
                .filter(id -> spiffeId.isEmpty() || spiffeId.get().equals(id))
                .map(id -> new JwtIdentity(id, domain.jwt(id, audience, Instant.now().plus(Duration.ofMinutes(5))), ""))
                .toList();
    }

    @Override
    public AutoCloseable onChange(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}
