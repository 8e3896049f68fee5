package dev.sigil.agent.workload;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the Workload API serves, as the agent's SVID cache knows it. The Workload API server is the
 * consumer; the agent's cache implements it. Implementations are thread-safe and return immutable
 * snapshots; a listener registered with {@link #onChange} is called after every change that could
 * alter an answer (entries added or removed, SVIDs rotated, bundles changed).
 */
public interface WorkloadIdentities {

    /**
     * True once the agent has completed its first entry sync with the server. Before that, "no
     * matching identity" is not final and must not be answered with PermissionDenied.
     */
    boolean synced();

    /** The X.509-SVIDs, with keys, for a workload with these attested selectors; empty when none match. */
    List<X509Identity> x509Svids(Set<Selector> selectors);

    /** The trust bundles: this trust domain's and the federated ones. */
    Bundles bundles();

    /**
     * JWT-SVIDs for the identities matching the selectors (only {@code spiffeId}'s when given), for
     * the audience; empty when none match. May call the server (cached per identity and audience).
     */
    List<JwtIdentity> jwtSvids(Set<Selector> selectors, List<String> audience, Optional<SpiffeId> spiffeId);

    /**
     * WIT-SVIDs, each with the private key it is bound to, for the identities matching the selectors (only
     * {@code spiffeId}'s when given); empty when none match. A WIT-SVID is replaced once half its lifetime has
     * passed, and {@link #onChange} listeners are told, so open streams push the new one. May call the server.
     */
    default List<WitIdentity> witSvids(Set<Selector> selectors, Optional<SpiffeId> spiffeId) {
        return List.of();
    }

    /**
     * The revocation state of a token of this trust domain at status list entry ({@code uri}, {@code idx}):
     * {@code REVOKED}, {@code VALID}, or {@code UNKNOWN} when the server issued no such token or cannot
     * be asked. ValidateJWTSVID accepts a JWT-SVID with a status claim only when this says {@code VALID}.
     */
    default TokenState tokenState(String uri, long idx) {
        return TokenState.UNKNOWN;
    }

    /** What the server says of a token's status list entry. */
    enum TokenState { VALID, REVOKED, UNKNOWN }

    /** Registers {@code listener}; closing the handle unregisters it. */
    AutoCloseable onChange(Runnable listener);

    /** One X.509-SVID with its private key (DER PKCS#8). {@link #toString()} never shows the key. */
    record X509Identity(SpiffeId spiffeId, List<X509Certificate> chain, byte[] privateKeyPkcs8, String hint,
                        Set<TrustDomain> federatesWith) {
        public X509Identity {
            Objects.requireNonNull(spiffeId, "spiffeId");
            chain = List.copyOf(chain);
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("an x509 identity needs at least its leaf certificate");
            }
            privateKeyPkcs8 = privateKeyPkcs8.clone();
            hint = hint == null ? "" : hint;
            federatesWith = Set.copyOf(federatesWith);
        }

        @Override
        public byte[] privateKeyPkcs8() {
            return privateKeyPkcs8.clone();
        }

        @Override
        public String toString() {
            return "X509Identity[" + spiffeId + ", notAfter=" + chain.get(0).getNotAfter().toInstant() + ", key=<redacted>]";
        }
    }

    /** One JWT-SVID. {@link #toString()} never shows the token. */
    record JwtIdentity(SpiffeId spiffeId, String token, String hint) {
        public JwtIdentity {
            Objects.requireNonNull(spiffeId, "spiffeId");
            Objects.requireNonNull(token, "token");
            hint = hint == null ? "" : hint;
        }

        @Override
        public String toString() {
            return "JwtIdentity[" + spiffeId + ", token=<redacted>]";
        }
    }

    /**
     * One WIT-SVID and the private key its {@code cnf.jwk} names (a JWK JSON object, as the Workload API sends it).
     * {@link #toString()} shows neither.
     */
    record WitIdentity(SpiffeId spiffeId, String token, String privateKeyJwk, String hint) {
        public WitIdentity {
            Objects.requireNonNull(spiffeId, "spiffeId");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(privateKeyJwk, "privateKeyJwk");
            hint = hint == null ? "" : hint;
        }

        @Override
        public String toString() {
            return "WitIdentity[" + spiffeId + ", token=<redacted>, key=<redacted>]";
        }
    }

    /** This trust domain's bundle and the federated trust domains' bundles. */
    record Bundles(SpiffeBundle own, Map<TrustDomain, SpiffeBundle> federated) {
        public Bundles {
            Objects.requireNonNull(own, "own");
            federated = Map.copyOf(federated);
        }
    }
}
