package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A minted X.509-SVID certificate chain: the leaf first, then any intermediates up to (not including)
 * the trust anchor in the bundle. Holds no private key: the workload kept it.
 *
 * <p>The leaf is kept as the DER bytes that were signed; it is parsed into an {@link X509Certificate}
 * only when {@link #leaf()} or {@link #chain()} is first called, so a server that sends
 * {@link #chainDer()} on the wire never pays for parsing. Thread-safe.
 */
public final class X509Svid {
    private final SpiffeId spiffeId;
    private final byte[] leafDer;
    private final List<X509Certificate> intermediates;
    private final Instant expiresAt;
    private volatile X509Certificate leaf;

    X509Svid(SpiffeId spiffeId, byte[] leafDer, List<X509Certificate> intermediates, Instant expiresAt) {
        this.spiffeId = Objects.requireNonNull(spiffeId, "spiffeId");
        this.leafDer = leafDer.clone();
        this.intermediates = List.copyOf(intermediates);
        this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /** The leaf's not-after time. */
    public Instant expiresAt() {
        return expiresAt;
    }

    public X509Certificate leaf() {
        X509Certificate parsed = leaf;
        if (parsed == null) {
            parsed = X509Parts.toCertificate(leafDer);
            leaf = parsed;
        }
        return parsed;
    }

    /** Leaf first, then intermediates. */
    public List<X509Certificate> chain() {
        List<X509Certificate> chain = new ArrayList<>(1 + intermediates.size());
        chain.add(leaf());
        chain.addAll(intermediates);
        return List.copyOf(chain);
    }

    /** The DER encoding of each certificate of {@link #chain()}, in the same order; fresh arrays. */
    public List<byte[]> chainDer() {
        List<byte[]> chain = new ArrayList<>(1 + intermediates.size());
        chain.add(leafDer.clone());
        for (X509Certificate intermediate : intermediates) {
            try {
                chain.add(intermediate.getEncoded());
            } catch (CertificateEncodingException e) {
                throw new AuthorityException("cannot encode intermediate '" + intermediate.getSubjectX500Principal() + "'", e);
            }
        }
        return List.copyOf(chain);
    }

    @Override
    public String toString() {
        return "X509Svid[" + spiffeId + ", chain of " + (1 + intermediates.size()) + ", expires=" + expiresAt + "]";
    }
}
