package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Objects;

/**
 * A minted WIT-SVID (WIMSE workload identity token): header {@code typ} {@code wit+jwt}, claims {@code sub},
 * {@code iat}, {@code exp}, {@code jti} and {@code cnf.jwk}, the public key whose private half the workload
 * holds. Without a proof of possession of that key (a workload proof token) the token proves nothing, but
 * {@link #toString()} still leaves it out.
 *
 * @param keyId      the {@code kid} in the token's header, naming a {@code wit-svid} key of the bundle
 * @param thumbprint the RFC 7638 SHA-256 thumbprint of the confirmation key, for the audit trail
 */
public record WitSvid(String token, SpiffeId spiffeId, Instant issuedAt, Instant expiresAt, String keyId, String jwtId, String thumbprint) {
    public WitSvid {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(jwtId, "jwtId");
        Objects.requireNonNull(thumbprint, "thumbprint");
    }

    @Override
    public String toString() {
        return "WitSvid[" + spiffeId + ", kid=" + keyId + ", jti=" + jwtId + ", expires=" + expiresAt + ", token=<redacted>]";
    }
}
