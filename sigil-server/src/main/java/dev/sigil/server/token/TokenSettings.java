package dev.sigil.server.token;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Duration;
import java.util.Set;
import java.util.Objects;

/**
 * @param issuer        the {@code iss} of issued access tokens (the server's JWT issuer URL)
 * @param audience      what JWT-SVIDs presented to the token service must carry in {@code aud}
 * @param defaultTtl    lifetime of an access token unless policy caps it lower
 * @param introspectors identities that may introspect any token (RFC 7662 section 4); a token's holder
 *                      and its audience may always introspect it, everyone else reads it inactive
 */
public record TokenSettings(String issuer, String audience, Duration defaultTtl, Set<SpiffeId> introspectors) {
    public TokenSettings(String issuer, String audience, Duration defaultTtl) {
        this(issuer, audience, defaultTtl, Set.of());
    }

    public TokenSettings {
        introspectors = Set.copyOf(introspectors);
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        if (defaultTtl == null || defaultTtl.isNegative() || defaultTtl.toSeconds() < 1) {
            throw new IllegalArgumentException("token_endpoint.default_ttl is " + defaultTtl + "; it must be at least one second");
        }
    }

    /** The default audience of the token endpoint: the issuer URL followed by {@code /oauth2/token}. */
    public static String defaultAudience(String issuer) {
        return (issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer) + "/oauth2/token";
    }
}
