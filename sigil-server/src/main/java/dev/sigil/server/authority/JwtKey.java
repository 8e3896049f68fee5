package dev.sigil.server.authority;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.keys.Signer;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Optional;

/**
 * One active JWT signing key: signs JWT-SVIDs per the JWT-SVID specification. The header always
 * carries {@code alg} (fixed by the key type: ES256, ES384 or RS256), {@code kid} and {@code typ}
 * {@code JWT}; the claims are {@code sub} (the SPIFFE ID), {@code aud} (at least one), {@code exp}
 * (now + TTL, never past the key's own expiry), {@code iat}, and {@code iss} when configured.
 * Immutable and thread-safe.
 */
final class JwtKey {
    private final String keyId;
    private final SignerJwsSigner signer;
    private final JWSHeader header;
    private final Instant notAfter;
    private final Optional<String> issuer;

    JwtKey(String keyId, Signer signer, Instant notAfter, Optional<String> issuer) {
        this.keyId = keyId;
        this.signer = new SignerJwsSigner(signer);
        this.notAfter = notAfter;
        this.issuer = issuer;
        JWSHeader built = new JWSHeader.Builder(signer.type().jwsAlgorithm()).keyID(keyId).type(JOSEObjectType.JWT).build();
        try {
            // a parsed header keeps its encoded form, so it is not re-serialized for every token
            this.header = JWSHeader.parse(built.toBase64URL());
        } catch (ParseException e) {
            throw new IllegalStateException("cannot re-read the jws header just built", e);
        }
    }

    String keyId() {
        return keyId;
    }

    Instant notAfter() {
        return notAfter;
    }

    JwtSvid mint(SpiffeId spiffeId, Audience audience, Duration ttl, Instant now) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("jwt-svid ttl is " + ttl + "; it must be positive");
        }
        Instant issuedAt = now.truncatedTo(ChronoUnit.SECONDS);
        Instant requested = now.plus(ttl);
        Instant expiresAt = (requested.isAfter(notAfter) ? notAfter : requested).truncatedTo(ChronoUnit.SECONDS);
        if (!expiresAt.isAfter(now)) {
            throw new AuthorityException("jwt authority " + keyId + " expires at " + notAfter + "; it cannot sign at " + now);
        }
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .subject(spiffeId.toString())
                .audience(audience.values())
                .expirationTime(Date.from(expiresAt))
                .issueTime(Date.from(issuedAt));
        issuer.ifPresent(claims::issuer);
        SignedJWT jwt = new SignedJWT(header, claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new AuthorityException("signing a jwt-svid with key " + keyId + " failed: " + e.getMessage(), e);
        }
        return new JwtSvid(jwt.serialize(), spiffeId, audience, issuedAt, expiresAt, keyId);
    }

    @Override
    public String toString() {
        return "JwtKey[" + keyId + ", " + header.getAlgorithm() + ", until " + notAfter + "]";
    }
}
