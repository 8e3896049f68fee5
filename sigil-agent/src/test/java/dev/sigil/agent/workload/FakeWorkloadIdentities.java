package dev.sigil.agent.workload;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory {@link WorkloadIdentities}: entries map a selector set to an X.509 identity; a caller
 * matches an entry when it has all of the entry's selectors. JWT-SVIDs are minted on demand by the
 * trust domain's key. Counts its registered listeners so tests can catch leaks. Shared with
 * sigil-cli's tests through this module's test-jar (it implements this module's SPI, so it cannot
 * live in sigil-testkit).
 */
public final class FakeWorkloadIdentities implements WorkloadIdentities {
    public record Entry(Set<Selector> selectors, X509Identity identity) {}

    private final TestTrustDomain domain;
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean synced = true;
    private volatile List<Entry> entries = List.of();
    private volatile Map<TrustDomain, SpiffeBundle> federated = Map.of();
    private final Map<String, TokenState> tokenStates = new ConcurrentHashMap<>();

    public FakeWorkloadIdentities(TestTrustDomain domain) {
        this.domain = domain;
    }

    public void setSynced(boolean value) {
        synced = value;
        changed();
    }

    public void setEntries(Entry... newEntries) {
        entries = List.of(newEntries);
        changed();
    }

    /** What the "server" says of status list entry (uri, idx); entries not set are UNKNOWN. */
    public void setTokenState(String uri, long idx, TokenState state) {
        tokenStates.put(uri + "#" + idx, state);
    }

    @Override
    public TokenState tokenState(String uri, long idx) {
        return tokenStates.getOrDefault(uri + "#" + idx, TokenState.UNKNOWN);
    }

    public void setFederated(Map<TrustDomain, SpiffeBundle> bundles) {
        federated = Map.copyOf(bundles);
        changed();
    }

    public int listenerCount() {
        return listeners.size();
    }

    public void changed() {
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
