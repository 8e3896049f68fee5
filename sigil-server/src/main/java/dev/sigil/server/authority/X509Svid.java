package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A minted X.509-SVID certificate chain: the leaf first, then any intermediates up to (not including)
 * the trust anchor in the bundle. Holds no private key: the workload kept it.
 */
public record X509Svid(SpiffeId spiffeId, List<X509Certificate> chain, Instant expiresAt) {
    public X509Svid {
        Objects.requireNonNull(spiffeId, "spiffeId");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("x509-svid chain is empty; it needs at least the leaf certificate");
        }
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    @Override
    public String toString() {
        return "X509Svid[" + spiffeId + ", serial=" + leaf().getSerialNumber().toString(16) + ", expires=" + expiresAt + "]";
    }
}
