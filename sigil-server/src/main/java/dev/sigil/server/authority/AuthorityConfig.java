package dev.sigil.server.authority;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the authority of one trust domain signs and rotates.
 *
 * <p>Defaults ({@link #defaults}): X.509 CA keys ec-p256 valid 7 days; JWT keys ec-p256 (ES256) valid
 * 1 day; no upstream CA (self-signed roots); no {@code iss} claim; bundle refresh hint 5 minutes.
 * With rotation at 1/2 and 5/6 of a lifetime (see {@link Authority}), a 7-day CA is replaced every
 * 3.5 days and an SVID signed just before a rotation can still live 28 hours, far above the usual
 * one-hour X.509-SVID TTL; a 1-day JWT key leaves 4 hours, above the usual 5-minute JWT-SVID TTL.
 * The server can be stopped for most of a lifetime without its authorities lapsing.
 *
 * @param caTtl             lifetime of each X.509 CA certificate (capped by an upstream CA's own expiry)
 * @param jwtKeyTtl         lifetime of each JWT signing key, and of each WIT-SVID signing key
 * @param upstream          when present, each CA is an intermediate signed by this upstream CA
 * @param jwtIssuer         the {@code iss} claim of JWT-SVIDs, when set
 * @param bundleRefreshHint the bundle's {@code spiffe_refresh_hint}
 */
public record AuthorityConfig(
        TrustDomain trustDomain,
        KeyType caKeyType,
        Duration caTtl,
        KeyType jwtKeyType,
        Duration jwtKeyTtl,
        Optional<UpstreamCa> upstream,
        Optional<String> jwtIssuer,
        Duration bundleRefreshHint) {

    public static final Duration DEFAULT_CA_TTL = Duration.ofDays(7);
    public static final Duration DEFAULT_JWT_KEY_TTL = Duration.ofDays(1);
    public static final Duration DEFAULT_REFRESH_HINT = Duration.ofMinutes(5);
    static final Duration MINIMUM_TTL = Duration.ofMinutes(1);

    public AuthorityConfig {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(caKeyType, "caKeyType");
        Objects.requireNonNull(jwtKeyType, "jwtKeyType");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(jwtIssuer, "jwtIssuer");
        requireAtLeast("ca_ttl", caTtl, MINIMUM_TTL);
        requireAtLeast("jwt_key_ttl", jwtKeyTtl, MINIMUM_TTL);
        requireAtLeast("bundle refresh hint", bundleRefreshHint, Duration.ofSeconds(1));
        if (jwtIssuer.isPresent() && jwtIssuer.get().isBlank()) {
            throw new IllegalArgumentException("jwt issuer is blank; leave it unset or give a URL such as https://oidc.example.org");
        }
    }

    public static AuthorityConfig defaults(TrustDomain trustDomain) {
        return new AuthorityConfig(trustDomain, KeyType.EC_P256, DEFAULT_CA_TTL, KeyType.EC_P256, DEFAULT_JWT_KEY_TTL,
                Optional.empty(), Optional.empty(), DEFAULT_REFRESH_HINT);
    }

    public AuthorityConfig withCaKeyType(KeyType type) {
        return new AuthorityConfig(trustDomain, type, caTtl, jwtKeyType, jwtKeyTtl, upstream, jwtIssuer, bundleRefreshHint);
    }

    public AuthorityConfig withCaTtl(Duration ttl) {
        return new AuthorityConfig(trustDomain, caKeyType, ttl, jwtKeyType, jwtKeyTtl, upstream, jwtIssuer, bundleRefreshHint);
    }

    public AuthorityConfig withJwtKeyType(KeyType type) {
        return new AuthorityConfig(trustDomain, caKeyType, caTtl, type, jwtKeyTtl, upstream, jwtIssuer, bundleRefreshHint);
    }

    public AuthorityConfig withJwtKeyTtl(Duration ttl) {
        return new AuthorityConfig(trustDomain, caKeyType, caTtl, jwtKeyType, ttl, upstream, jwtIssuer, bundleRefreshHint);
    }

    public AuthorityConfig withUpstream(UpstreamCa upstreamCa) {
        return new AuthorityConfig(trustDomain, caKeyType, caTtl, jwtKeyType, jwtKeyTtl, Optional.of(upstreamCa), jwtIssuer, bundleRefreshHint);
    }

    public AuthorityConfig withJwtIssuer(String issuer) {
        return new AuthorityConfig(trustDomain, caKeyType, caTtl, jwtKeyType, jwtKeyTtl, upstream, Optional.of(issuer), bundleRefreshHint);
    }

    public AuthorityConfig withBundleRefreshHint(Duration hint) {
        return new AuthorityConfig(trustDomain, caKeyType, caTtl, jwtKeyType, jwtKeyTtl, upstream, jwtIssuer, hint);
    }

    Duration ttlOf(AuthorityKind kind) {
        return kind == AuthorityKind.X509 ? caTtl : jwtKeyTtl; // WIT keys rotate like the JWT key
    }

    private static void requireAtLeast(String name, Duration value, Duration minimum) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(minimum) < 0) {
            throw new IllegalArgumentException(name + " is " + value + "; it must be at least " + minimum);
        }
    }
}
