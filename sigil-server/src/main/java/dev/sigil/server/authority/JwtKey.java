package dev.sigil.server.authority;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.keys.Signer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One active JWT signing key: signs JWT-SVIDs per the JWT-SVID specification. The header always
 * carries {@code alg} (fixed by the key type: ES256, ES384 or RS256), {@code kid} and {@code typ}
 * {@code JWT}; the claims are {@code sub} (the SPIFFE ID), {@code aud} (at least one), {@code exp}
 * (now + TTL, never past the key's own expiry), {@code iat}, and {@code iss} when configured.
 *
 * <p>The header is a Nimbus {@link JWSHeader}, encoded once per key; the signature comes from the
 * Nimbus {@link SignerJwsSigner} adapter over the key manager's signer. The claims and the compact
 * serialization are assembled directly, which keeps a mint close to the cost of its one signature.
 * Immutable and thread-safe.
 */
final class JwtKey {
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final String keyId;
    private final SignerJwsSigner signer;
    private final JWSHeader header;
    private final String encodedHeader;
    private final Instant notAfter;
    private final Optional<String> issuer;
    /** Headers with another {@code typ}, each encoded once (the types are the code's constants, a handful). */
    private final ConcurrentHashMap<String, TypedHeader> typedHeaders = new ConcurrentHashMap<>();

    private record TypedHeader(JWSHeader header, String encoded) {}

    JwtKey(String keyId, Signer signer, Instant notAfter, Optional<String> issuer) {
        this.keyId = keyId;
        this.signer = new SignerJwsSigner(signer);
        this.notAfter = notAfter;
        this.issuer = issuer;
        this.header = new JWSHeader.Builder(signer.type().jwsAlgorithm()).keyID(keyId).type(JOSEObjectType.JWT).build();
        this.encodedHeader = header.toBase64URL().toString();
    }

    JwtSvid mint(SpiffeId spiffeId, Audience audience, Duration ttl, Instant now) {
        return mint(spiffeId, audience, ttl, now, Optional.empty());
    }

    JwtSvid mint(SpiffeId spiffeId, Audience audience, Duration ttl, Instant now, Optional<String> statusJson) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("jwt-svid ttl is " + ttl + "; it must be positive");
        }
        Instant issuedAt = now.truncatedTo(ChronoUnit.SECONDS);
        Instant requested = now.plus(ttl);
        Instant expiresAt = (requested.isAfter(notAfter) ? notAfter : requested).truncatedTo(ChronoUnit.SECONDS);
        if (!expiresAt.isAfter(now)) {
            throw new AuthorityException("jwt authority " + keyId + " expires at " + notAfter + "; it cannot sign at " + now);
        }
        String claims = JwtClaims.json(spiffeId, audience, expiresAt.getEpochSecond(), issuedAt.getEpochSecond(), issuer, statusJson);
        String signingInput = encodedHeader + '.' + BASE64URL.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        String signature;
        try {
            signature = signer.sign(header, signingInput.getBytes(StandardCharsets.US_ASCII)).toString();
        } catch (JOSEException e) {
            throw new AuthorityException("signing a jwt-svid with key " + keyId + " failed: " + e.getMessage(), e);
        }
        return new JwtSvid(signingInput + '.' + signature, spiffeId, audience, issuedAt, expiresAt, keyId);
    }

    /**
     * Signs {@code claimsJson} (a complete JSON object, built and validated by the caller) with this
     * key under the same header as JWT-SVIDs ({@code alg}, {@code kid}, {@code typ}); returns the
     * compact serialization.
     */
    String sign(String claimsJson) {
        String signingInput = encodedHeader + '.' + BASE64URL.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
        try {
            return signingInput + '.' + signer.sign(header, signingInput.getBytes(StandardCharsets.US_ASCII));
        } catch (JOSEException e) {
            throw new AuthorityException("signing a jwt with key " + keyId + " failed: " + e.getMessage(), e);
        }
    }

    /** Signs {@code claimsJson} like {@link #sign(String)} but with header {@code typ} {@code type} (e.g. {@code statuslist+jwt}). */
    String sign(String claimsJson, String type) {
        TypedHeader typed = typedHeaders.computeIfAbsent(type, t -> {
            JWSHeader built = new JWSHeader.Builder(header).type(new JOSEObjectType(t)).build();
            return new TypedHeader(built, built.toBase64URL().toString());
        });
        String signingInput = typed.encoded() + "." + BASE64URL.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
        try {
            return signingInput + '.' + signer.sign(typed.header(), signingInput.getBytes(StandardCharsets.US_ASCII));
        } catch (JOSEException e) {
            throw new AuthorityException("signing a " + type + " with key " + keyId + " failed: " + e.getMessage(), e);
        }
    }

    String keyId() {
        return keyId;
    }

    Instant notAfter() {
        return notAfter;
    }

    @Override
    public String toString() {
        return "JwtKey[" + keyId + ", " + header.getAlgorithm() + ", until " + notAfter + "]";
    }
}
