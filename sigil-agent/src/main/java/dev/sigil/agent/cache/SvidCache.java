package dev.sigil.agent.cache;

import dev.sigil.agent.server.AgentServerClient.SignRequest;
import dev.sigil.agent.server.MintedJwt;
import dev.sigil.agent.server.MintedWit;
import dev.sigil.agent.server.NodeKeys;
import dev.sigil.agent.server.RegistrationEntry;
import dev.sigil.agent.server.SignResult;
import dev.sigil.agent.workload.WorkloadIdentities;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.security.KeyPair;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's entry table and workload SVID cache, served to the Workload API as {@link WorkloadIdentities}.
 *
 * <p>Guarantees: every workload key pair is generated here (EC P-256) and only its CSR goes to the
 * server; a held SVID is replaced once half its lifetime has passed (by the injected clock) or when its
 * entry changes, and dropped when its entry is removed; an expired SVID or an expired entry is never
 * served. Readers see immutable snapshots swapped atomically; listeners run after a change, outside
 * any lock, on the thread that made it.
 *
 * <p>Writers ({@link #apply}, {@link #rotateDue}) are called by one thread at a time (the agent's tick).
 */
public final class SvidCache implements WorkloadIdentities {
    private static final Logger LOG = LoggerFactory.getLogger(SvidCache.class);
    private static final int BATCH = 500;

    private final TrustDomain trustDomain;
    private final WorkloadSigner signer;
    private final Clock clock;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Map<JwtKey, CachedJwt> jwts = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;
    /** The federated trust domains' bundles, as the server last sent them, and the server's digest of that set. */
    private volatile FederatedSet federated = new FederatedSet(Map.of(), "");

    private record FederatedSet(Map<TrustDomain, SpiffeBundle> bundles, String digest) {
    }

    private record Held(long entryRevision, X509Identity identity, Instant rotateAt, Instant notAfter) {
    }

    private record Snapshot(Map<String, RegistrationEntry> entries, Map<String, Held> identities, SpiffeBundle bundle,
                            boolean synced, long revision) {
    }

    private record JwtKey(String entryId, List<String> audience) {
    }

    private record CachedJwt(long entryRevision, String token, Instant refreshAt, Instant expiresAt) {
    }

    /** A WIT-SVID and the private key (JWK) generated here for it; the key never leaves the agent and the workload. */
    private record CachedWit(long entryRevision, String token, String privateKeyJwk, Instant refreshAt, Instant expiresAt) {
        @Override
        public String toString() {
            return "CachedWit[expiresAt=" + expiresAt + ", token=<redacted>, key=<redacted>]";
        }
    }

    private final Map<String, CachedWit> wits = new ConcurrentHashMap<>();

    /**
     * Asks the server, at most once per second per entry: a revocation reaches ValidateJWTSVID within a
     * second. Fails closed: when the server cannot be asked the state is {@code UNKNOWN}.
     */
    @Override
    public TokenState tokenState(String uri, long idx) {
        String key = uri + "#" + idx;
        java.time.Instant now = clock.instant();
        CachedState cached = states.get(key);
        if (cached != null && cached.until().isAfter(now)) {
            return cached.state();
        }
        TokenState state;
        try {
            state = signer.tokenRevoked(uri, idx).map(revoked -> revoked ? TokenState.REVOKED : TokenState.VALID).orElse(TokenState.UNKNOWN);
        } catch (RuntimeException e) {
            return TokenState.UNKNOWN;
        }
        if (states.size() > 10_000) {
            states.clear();
        }
        states.put(key, new CachedState(state, now.plusSeconds(1)));
        return state;
    }

    private record CachedState(TokenState state, java.time.Instant until) {}

    private final Map<String, CachedState> states = new ConcurrentHashMap<>();

    public SvidCache(TrustDomain trustDomain, WorkloadSigner signer, Clock clock) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.signer = Objects.requireNonNull(signer, "signer");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.snapshot = new Snapshot(Map.of(), Map.of(),
                new SpiffeBundle(trustDomain, List.of(), List.of(), 0, Optional.empty()), false, 0);
    }

    /** Applies one sync page: changed entries replace theirs, removed ones go with their SVIDs and JWTs. */
    public void apply(List<RegistrationEntry> changed, List<String> removedIds, long throughRevision, Optional<SpiffeBundle> bundle) {
        Snapshot current = snapshot;
        Map<String, RegistrationEntry> entries = new HashMap<>(current.entries());
        Map<String, Held> identities = new HashMap<>(current.identities());
        boolean changes = bundle.isPresent();
        for (RegistrationEntry entry : changed) {
            if (entry.parentId().equals(serverId())) {
                continue; // a node alias: it names nodes, not workloads
            }
            RegistrationEntry old = entries.put(entry.id(), entry);
            changes |= !entry.equals(old);
        }
        for (String id : removedIds) {
            changes |= entries.remove(id) != null;
            changes |= identities.remove(id) != null;
            jwts.keySet().removeIf(key -> key.entryId().equals(id));
            wits.remove(id);
        }
        snapshot = new Snapshot(Map.copyOf(entries), Map.copyOf(identities), bundle.orElse(current.bundle()), current.synced(),
                Math.max(current.revision(), throughRevision));
        if (changes) {
            notifyListeners();
        }
    }

    /** Drops every entry (with its SVID and JWTs) whose id is not in {@code ids}: the server's full state. */
    public void retainOnly(Set<String> ids) {
        List<String> gone = snapshot.entries().keySet().stream().filter(id -> !ids.contains(id)).toList();
        if (!gone.isEmpty()) {
            apply(List.of(), gone, snapshot.revision(), Optional.empty());
        }
    }

    /** Sets this trust domain's bundle (from attestation or renewal). */
    public void updateBundle(SpiffeBundle bundle) {
        Snapshot current = snapshot;
        if (bundle.equals(current.bundle())) {
            return;
        }
        snapshot = new Snapshot(current.entries(), current.identities(), bundle, current.synced(), current.revision());
        notifyListeners();
    }

    /**
     * Replaces the federated bundles with the set the server sent (only those of trust domains this agent's
     * entries federate with) and remembers its digest for the next sync.
     */
    public void updateFederatedBundles(Map<TrustDomain, SpiffeBundle> bundles, String digest) {
        FederatedSet current = federated;
        federated = new FederatedSet(Map.copyOf(bundles), digest);
        if (!current.bundles().equals(bundles)) {
            notifyListeners();
        }
    }

    /** The digest of the federated bundles held, for the server to tell whether they changed. */
    public String federatedBundlesDigest() {
        return federated.digest();
    }

    /** Records that a complete sync has happened; from now on an empty answer is final. */
    public void markSynced() {
        Snapshot current = snapshot;
        if (!current.synced()) {
            snapshot = new Snapshot(current.entries(), current.identities(), current.bundle(), true, current.revision());
            notifyListeners();
        }
    }

    /**
     * Signs SVIDs for every entry that has none, whose entry changed, or whose SVID is past half its
     * lifetime; returns how many were replaced. Requests the server refuses are retried on the next call.
     *
     * @throws dev.sigil.agent.server.AgentServerException when the server call fails
     */
    public int rotateDue() {
        Instant now = clock.instant();
        jwts.values().removeIf(jwt -> !now.isBefore(jwt.expiresAt()));
        if (wits.values().removeIf(wit -> !now.isBefore(wit.refreshAt()))) {
            notifyListeners(); // open FetchWITSVID streams fetch, and push, a fresh WIT-SVID
        }
        Snapshot current = snapshot;
        List<RegistrationEntry> due = new ArrayList<>();
        for (RegistrationEntry entry : current.entries().values()) {
            Held held = current.identities().get(entry.id());
            if (!entry.expiredAt(now) && (held == null || held.entryRevision() != entry.revision() || !now.isBefore(held.rotateAt()))) {
                due.add(entry);
            }
        }
        Map<String, Held> signed = new HashMap<>();
        for (int from = 0; from < due.size(); from += BATCH) {
            List<RegistrationEntry> batch = due.subList(from, Math.min(due.size(), from + BATCH));
            Map<String, KeyPair> keys = new LinkedHashMap<>();
            List<SignRequest> requests = new ArrayList<>();
            for (RegistrationEntry entry : batch) {
                KeyPair pair = NodeKeys.generate();
                keys.put(entry.id(), pair);
                requests.add(new SignRequest(entry.id(), NodeKeys.csr(pair)));
            }
            List<SignResult> results = signer.batchSign(requests);
            for (int i = 0; i < results.size(); i++) {
                RegistrationEntry entry = batch.get(i);
                switch (results.get(i)) {
                    case SignResult.Signed ok -> held(entry, ok.chain(), keys.get(entry.id())).ifPresent(h -> signed.put(entry.id(), h));
                    case SignResult.Refused refused -> LOG.warn("server refused the x509-svid for entry {} ({}): {}",
                            entry.id(), entry.spiffeId(), refused.reason());
                }
            }
        }
        if (signed.isEmpty()) {
            return 0;
        }
        Snapshot latest = snapshot;
        Map<String, Held> identities = new HashMap<>(latest.identities());
        signed.forEach((id, held) -> {
            if (latest.entries().containsKey(id)) {
                identities.put(id, held);
            }
        });
        snapshot = new Snapshot(latest.entries(), Map.copyOf(identities), latest.bundle(), latest.synced(), latest.revision());
        notifyListeners();
        return signed.size();
    }

    private Optional<Held> held(RegistrationEntry entry, List<X509Certificate> chain, KeyPair keys) {
        X509Certificate leaf = chain.get(0);
        if (!NodeKeys.certifies(leaf, keys) || !entry.spiffeId().toString().equals(uriSan(leaf))) {
            LOG.warn("server returned an x509-svid for entry {} that does not match its key or spiffe id '{}'; discarded",
                    entry.id(), entry.spiffeId());
            return Optional.empty();
        }
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        Instant rotateAt = notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
        X509Identity identity = new X509Identity(entry.spiffeId(), chain, keys.getPrivate().getEncoded(), entry.hint(), entry.federatesWith());
        return Optional.of(new Held(entry.revision(), identity, rotateAt, notAfter));
    }

    private static String uriSan(X509Certificate leaf) {
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (((Integer) name.get(0)) == 6) {
                        return String.valueOf(name.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return "";
        }
        return "";
    }

    private SpiffeId serverId() {
        return trustDomain.id("/sigil/server");
    }

    @Override
    public boolean synced() {
        return snapshot.synced();
    }

    @Override
    public List<X509Identity> x509Svids(Set<Selector> selectors) {
        Instant now = clock.instant();
        Snapshot current = snapshot;
        List<X509Identity> out = new ArrayList<>();
        for (RegistrationEntry entry : matching(current, selectors, now)) {
            Held held = current.identities().get(entry.id());
            // an entry whose SPIFFE ID changed keeps no identity until it is re-signed
            if (held != null && now.isBefore(held.notAfter()) && held.identity().spiffeId().equals(entry.spiffeId())) {
                out.add(held.identity());
            }
        }
        out.sort((a, b) -> a.spiffeId().compareTo(b.spiffeId()));
        return List.copyOf(out);
    }

    @Override
    public Bundles bundles() {
        return new Bundles(snapshot.bundle(), federated.bundles());
    }

    /**
     * Cached per entry and sorted audience until half the token's lifetime has passed; otherwise minted
     * by the server (a call per matching entry).
     */
    @Override
    public List<JwtIdentity> jwtSvids(Set<Selector> selectors, List<String> audience, Optional<SpiffeId> spiffeId) {
        if (audience.isEmpty()) {
            throw new IllegalArgumentException("a jwt-svid needs at least one audience");
        }
        List<String> sorted = audience.stream().sorted().distinct().toList();
        Instant now = clock.instant();
        List<JwtIdentity> out = new ArrayList<>();
        for (RegistrationEntry entry : matching(snapshot, selectors, now)) {
            if (spiffeId.isPresent() && !spiffeId.get().equals(entry.spiffeId())) {
                continue;
            }
            JwtKey key = new JwtKey(entry.id(), sorted);
            CachedJwt cached = jwts.get(key);
            if (cached == null || cached.entryRevision() != entry.revision() || !now.isBefore(cached.refreshAt())) {
                MintedJwt minted = signer.mintJwt(entry.id(), sorted);
                Instant refreshAt = now.plus(Duration.between(now, minted.expiresAt()).dividedBy(2));
                cached = new CachedJwt(entry.revision(), minted.token(), refreshAt, minted.expiresAt());
                if (snapshot.entries().containsKey(entry.id())) {
                    jwts.put(key, cached);
                }
            }
            out.add(new JwtIdentity(entry.spiffeId(), cached.token(), entry.hint()));
        }
        return List.copyOf(out);
    }

    /**
     * Cached per entry until half the token's lifetime has passed (then {@link #rotateDue} drops it and tells the
     * listeners); otherwise a new EC P-256 key pair is generated here and the server mints a WIT-SVID bound to its
     * public key. Every workload matching the entry gets the same token and key, as with X.509-SVIDs.
     */
    @Override
    public List<WitIdentity> witSvids(Set<Selector> selectors, Optional<SpiffeId> spiffeId) {
        Instant now = clock.instant();
        List<WitIdentity> out = new ArrayList<>();
        for (RegistrationEntry entry : matching(snapshot, selectors, now)) {
            if (spiffeId.isPresent() && !spiffeId.get().equals(entry.spiffeId())) {
                continue;
            }
            CachedWit cached = wits.get(entry.id());
            if (cached == null || cached.entryRevision() != entry.revision() || !now.isBefore(cached.refreshAt())) {
                WitKeys.Pair pair = WitKeys.generate();
                MintedWit minted = signer.mintWit(entry.id(), pair.publicJwk());
                Instant refreshAt = now.plus(Duration.between(now, minted.expiresAt()).dividedBy(2));
                cached = new CachedWit(entry.revision(), minted.token(), pair.privateJwk(), refreshAt, minted.expiresAt());
                if (snapshot.entries().containsKey(entry.id())) {
                    wits.put(entry.id(), cached);
                }
            }
            out.add(new WitIdentity(entry.spiffeId(), cached.token(), cached.privateKeyJwk(), entry.hint()));
        }
        return List.copyOf(out);
    }

    private static List<RegistrationEntry> matching(Snapshot current, Set<Selector> selectors, Instant now) {
        List<RegistrationEntry> out = new ArrayList<>();
        for (RegistrationEntry entry : current.entries().values()) {
            if (entry.matches(selectors) && !entry.expiredAt(now)) {
                out.add(entry);
            }
        }
        out.sort((a, b) -> a.id().compareTo(b.id()));
        return out;
    }

    @Override
    public AutoCloseable onChange(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private void notifyListeners() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("workload identity change listener failed", e);
            }
        }
    }

    /** Entries held (workload entries only; node aliases are skipped). */
    public int entryCount() {
        return snapshot.entries().size();
    }

    /** X.509-SVIDs held. */
    public int identityCount() {
        return snapshot.identities().size();
    }

    /** The revision the entry table is synced through. */
    public long lastSyncRevision() {
        return snapshot.revision();
    }

    /** The sequence of the bundle held. */
    public long bundleSequence() {
        return snapshot.bundle().sequence();
    }

    /** JWT-SVIDs cached. */
    public int cachedJwtCount() {
        return jwts.size();
    }
}
