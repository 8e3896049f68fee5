package dev.sigil.server.authority;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import java.text.ParseException;
import java.util.Map;
import java.util.Set;

/**
 * The public key a WIT-SVID binds ({@code cnf.jwk}), as the agent sent it. Only a public EC (P-256, P-384,
 * P-521) or RSA (2048 bits or more) key is accepted; the token carries a canonical copy (the key's public
 * parameters and an {@code alg} that fits it) rather than whatever other members the request held, so a
 * relying party reads exactly one algorithm to verify proofs with.
 */
record ConfirmationKey(JWK jwk) {
    private static final Set<JWSAlgorithm> RSA_ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
    private static final int MAX_LENGTH = 4096;

    /**
     * Parses and checks {@code json}.
     *
     * @throws IllegalArgumentException naming what is wrong and what would be valid
     */
    static ConfirmationKey parse(String json) {
        if (json == null || json.isEmpty() || json.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("the confirmation key must be a public jwk of at most " + MAX_LENGTH + " characters");
        }
        JWK jwk;
        try {
            jwk = JWK.parse(json);
        } catch (ParseException e) {
            throw new IllegalArgumentException("the confirmation key is not a jwk: " + dev.sigil.core.Printable.clip(e.getMessage()));
        }
        if (jwk.isPrivate()) {
            throw new IllegalArgumentException("the confirmation key contains private key material; send the public key only");
        }
        JWSAlgorithm requested = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
        try {
            if (jwk instanceof ECKey ec) {
                JWSAlgorithm fits = ec.getCurve().equals(Curve.P_256) ? JWSAlgorithm.ES256 : ec.getCurve().equals(Curve.P_384)
                        ? JWSAlgorithm.ES384 : ec.getCurve().equals(Curve.P_521) ? JWSAlgorithm.ES512 : null;
                if (fits == null) {
                    throw new IllegalArgumentException("the confirmation key is on curve " + ec.getCurve() + "; valid: P-256, P-384, P-521");
                }
                if (requested != null && !requested.equals(fits)) {
                    throw new IllegalArgumentException("the confirmation key's alg is " + requested + "; a " + ec.getCurve()
                            + " key signs with " + fits);
                }
                return new ConfirmationKey(new ECKey.Builder(ec.getCurve(), ec.toECPublicKey()).algorithm(fits).build());
            }
            if (jwk instanceof RSAKey rsa) {
                if (rsa.size() < 2048) {
                    throw new IllegalArgumentException("the confirmation key is a " + rsa.size() + "-bit rsa key; at least 2048 bits are required");
                }
                if (requested != null && !RSA_ALGORITHMS.contains(requested)) {
                    throw new IllegalArgumentException("the confirmation key's alg is " + requested + "; valid for rsa: " + RSA_ALGORITHMS);
                }
                return new ConfirmationKey(new RSAKey.Builder(rsa.toRSAPublicKey()).algorithm(requested == null ? JWSAlgorithm.RS256 : requested)
                        .build());
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("the confirmation key is unusable: " + dev.sigil.core.Printable.clip(e.getMessage()));
        }
        throw new IllegalArgumentException("the confirmation key has key type " + jwk.getKeyType() + "; valid: EC, RSA");
    }

    /** The {@code cnf} claim's value: {@code {"jwk": {...}}}. */
    Map<String, Object> claim() {
        return Map.of("jwk", jwk.toJSONObject());
    }

    /** The RFC 7638 SHA-256 thumbprint, base64url. */
    String thumbprint() {
        try {
            return jwk.computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot compute the thumbprint of a checked key: " + e.getMessage(), e);
        }
    }
}
