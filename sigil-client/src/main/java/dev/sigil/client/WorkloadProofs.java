package dev.sigil.client;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Objects;
import java.util.Optional;

/**
 * Makes workload proof tokens (draft-ietf-wimse-wpt), the caller's side of {@link WimseVerifier}: a JWT with header
 * {@code typ} {@code wpt+jwt}, signed with the private key of a WIT-SVID (as the Workload API's FetchWITSVID hands
 * it out, a JWK) under that key's {@code alg}, with claims {@code aud} (the URI of the service called), {@code exp},
 * {@code iat}, a random {@code jti}, {@code wth} (the hash of the WIT-SVID) and {@code ath} / {@code tth} when an
 * access token / transaction token goes with the request. One proof per request: the service refuses a replayed
 * {@code jti}.
 */
public final class WorkloadProofs {
    /** The default lifetime of a proof: long enough for one request, short enough to be worthless soon after. */
    public static final Duration DEFAULT_LIFETIME = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    private WorkloadProofs() {}

    /**
     * A proof for one request to {@code audience}.
     *
     * @param privateKeyJwk the WIT-SVID's private key (its {@code alg} decides the proof's)
     * @throws IllegalArgumentException when the key is not a private EC or RSA JWK with an {@code alg}, or the
     *                                  lifetime is not positive
     */
    public static String create(String wit, String privateKeyJwk, String audience, Duration lifetime, Optional<String> accessToken,
                                Optional<String> transactionToken, Clock clock) {
        Objects.requireNonNull(wit, "wit");
        Objects.requireNonNull(audience, "audience");
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("proof lifetime is " + lifetime + "; it must be positive");
        }
        JWK key;
        try {
            key = JWK.parse(privateKeyJwk);
        } catch (ParseException e) {
            throw new IllegalArgumentException("the wit-svid key is not a jwk: " + e.getMessage(), e);
        }
        if (!key.isPrivate() || key.getAlgorithm() == null) {
            throw new IllegalArgumentException("the wit-svid key must be a private jwk with an alg (as FetchWITSVID sends it)");
        }
        JWSAlgorithm algorithm = JWSAlgorithm.parse(key.getAlgorithm().getName());
        Instant now = clock.instant();
        byte[] random = new byte[16];
        RANDOM.nextBytes(random);
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .audience(audience)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(lifetime)))
                .jwtID(Base64.getUrlEncoder().withoutPadding().encodeToString(random))
                .claim("wth", WimseVerifier.tokenHash(wit.strip()));
        accessToken.ifPresent(token -> claims.claim("ath", WimseVerifier.tokenHash(token.strip())));
        transactionToken.ifPresent(token -> claims.claim("tth", WimseVerifier.tokenHash(token.strip())));
        SignedJWT proof = new SignedJWT(new JWSHeader.Builder(algorithm).type(new JOSEObjectType("wpt+jwt")).build(), claims.build());
        try {
            JWSSigner signer = key instanceof ECKey ec ? new ECDSASigner(ec) : key instanceof RSAKey rsa ? new RSASSASigner(rsa) : null;
            if (signer == null) {
                throw new IllegalArgumentException("the wit-svid key has key type " + key.getKeyType() + "; valid: EC, RSA");
            }
            proof.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign the proof with the wit-svid key: " + e.getMessage(), e);
        }
        return proof.serialize();
    }
}
