package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Objects;

/**
 * A minted JWT-SVID. The token is a bearer credential: {@link #toString()} leaves it out.
 *
 * @param token compact JWS serialization
 * @param keyId the {@code kid} in the token's header, naming the JWT authority in the bundle
 */
public record JwtSvid(String token, SpiffeId spiffeId, Audience audience, Instant issuedAt, Instant expiresAt, String keyId) {
    public JwtSvid {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(keyId, "keyId");
    }

    @Override
    public String toString() {
        return "JwtSvid[" + spiffeId + ", aud=" + audience.values() + ", kid=" + keyId + ", expires=" + expiresAt + ", token=<redacted>]";
    }
}
