package dev.sigil.server.authority;

import dev.sigil.core.crypto.KeyType;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One authority as recorded in the rotation journal. Holds public material only: the CA certificate
 * (X.509) or the public JWK (JWT), and the id of the private key inside the key manager.
 *
 * @param certificatePem   X.509 authorities: this authority's CA certificate
 * @param upstreamChainPem X.509 intermediates: the upstream chain that signed it, issuer first, trust anchor last
 * @param publicKeyJwk     JWT and WIT authorities: the public key as a JWK with {@code kid} = {@code authorityId}
 * @param owner            the stable id of the server that created it and alone holds its key ({@code ""}: a
 *                         single server's, or one from before servers had their own)
 */
public record AuthorityRecord(
        String authorityId,
        AuthorityKind kind,
        AuthorityState state,
        String keyId,
        KeyType keyType,
        Optional<String> certificatePem,
        Optional<String> upstreamChainPem,
        Optional<String> publicKeyJwk,
        Instant notBefore,
        Instant notAfter,
        Instant createdAt,
        Optional<Instant> activatedAt,
        Optional<Instant> retiredAt,
        Optional<Instant> prunedAt,
        String owner) {

    public AuthorityRecord {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(authorityId, "authorityId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(certificatePem, "certificatePem");
        Objects.requireNonNull(upstreamChainPem, "upstreamChainPem");
        Objects.requireNonNull(publicKeyJwk, "publicKeyJwk");
        Objects.requireNonNull(activatedAt, "activatedAt");
        Objects.requireNonNull(retiredAt, "retiredAt");
        Objects.requireNonNull(prunedAt, "prunedAt");
        if (!notBefore.isBefore(notAfter)) {
            throw new IllegalArgumentException("authority " + authorityId + " has not-before " + notBefore
                    + " at or after not-after " + notAfter);
        }
        if (kind == AuthorityKind.X509 && certificatePem.isEmpty() || kind != AuthorityKind.X509 && publicKeyJwk.isEmpty()) {
            throw new IllegalArgumentException("authority " + authorityId + " of kind " + kind.storedName() + " has no public material");
        }
    }

    public Duration lifetime() {
        return Duration.between(notBefore, notAfter);
    }

    /** True when the authority is past its not-after time at {@code now}. */
    public boolean expiredAt(Instant now) {
        return !now.isBefore(notAfter);
    }
}
