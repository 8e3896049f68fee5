package dev.sigil.core.bundle;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.sigil.core.spiffeid.TrustDomain;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads and writes the JWKS forms of a {@link SpiffeBundle}. */
final class BundleJwks {
    static final String X509_SVID = "x509-svid";
    static final String JWT_SVID = "jwt-svid";
    static final String WIT_SVID = "wit-svid";
    private static final String SEQUENCE = "spiffe_sequence";
    private static final String REFRESH_HINT = "spiffe_refresh_hint";

    private BundleJwks() {}

    static String write(SpiffeBundle bundle) {
        List<Object> keys = new ArrayList<>();
        for (X509Certificate certificate : bundle.x509Authorities()) {
            keys.add(jwk(certificate.getPublicKey(), new KeyUse(X509_SVID), null, null, der(certificate)).toJSONObject());
        }
        for (JwtAuthority authority : bundle.jwtAuthorities()) {
            keys.add(jwk(authority.publicKey(), new KeyUse(JWT_SVID), authority.keyId(), null, null).toJSONObject());
        }
        for (JwtAuthority authority : bundle.witAuthorities()) {
            keys.add(jwk(authority.publicKey(), new KeyUse(WIT_SVID), authority.keyId(), null, null).toJSONObject());
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("keys", keys);
        document.put(SEQUENCE, bundle.sequence());
        bundle.refreshHint().ifPresent(hint -> document.put(REFRESH_HINT, hint.toSeconds()));
        return JSONObjectUtils.toJSONString(document);
    }

    static String writeOidc(SpiffeBundle bundle) {
        List<Object> keys = new ArrayList<>();
        for (JwtAuthority authority : bundle.jwtAuthorities()) {
            PublicKey key = authority.publicKey();
            keys.add(jwk(key, KeyUse.SIGNATURE, authority.keyId(), algorithmOf(key), null).toJSONObject());
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("keys", keys);
        return JSONObjectUtils.toJSONString(document);
    }

    static String writeWit(SpiffeBundle bundle) {
        List<Object> keys = new ArrayList<>();
        for (JwtAuthority authority : bundle.witAuthorities()) {
            PublicKey key = authority.publicKey();
            keys.add(jwk(key, new KeyUse(WIT_SVID), authority.keyId(), algorithmOf(key), null).toJSONObject());
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("keys", keys);
        return JSONObjectUtils.toJSONString(document);
    }

    static SpiffeBundle read(TrustDomain trustDomain, String json) {
        Map<String, Object> document;
        try {
            document = JSONObjectUtils.parse(json);
        } catch (ParseException e) {
            throw new BundleFormatException("bundle for '" + trustDomain + "' is not a JSON object: " + e.getMessage(), e);
        }
        if (document == null) {
            throw new BundleFormatException("bundle for '" + trustDomain + "' is not a JSON object: it is null");
        }
        if (!(document.get("keys") instanceof List<?> keys)) {
            throw new BundleFormatException("bundle for '" + trustDomain + "' has no 'keys' array");
        }
        long sequence = nonNegativeInteger(document, SEQUENCE, trustDomain).orElse(0L);
        Optional<Duration> refreshHint = nonNegativeInteger(document, REFRESH_HINT, trustDomain).map(Duration::ofSeconds);
        List<X509Certificate> x509 = new ArrayList<>();
        List<JwtAuthority> jwt = new ArrayList<>();
        List<JwtAuthority> wit = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            String where = "key " + i + " of the bundle for '" + trustDomain + "'";
            if (!(keys.get(i) instanceof Map<?, ?> member)) {
                throw new BundleFormatException(where + " is not a JSON object");
            }
            if (!(member.get("use") instanceof String use)) {
                throw new BundleFormatException(where + " has no 'use'; valid: '" + X509_SVID + "', '" + JWT_SVID + "' or '" + WIT_SVID + "'");
            }
            if (!use.equals(X509_SVID) && !use.equals(JWT_SVID) && !use.equals(WIT_SVID)) {
                continue; // the specification requires unknown uses to be ignored
            }
            JWK jwk = parseJwk(member, where);
            if (use.equals(X509_SVID)) {
                x509.add(x509Authority(jwk, where));
            } else if (use.equals(JWT_SVID)) {
                jwt.add(jwtAuthority(jwk, where));
            } else {
                wit.add(jwtAuthority(jwk, where));
            }
        }
        try {
            return new SpiffeBundle(trustDomain, x509, jwt, wit, sequence,
                    refreshHint.filter(hint -> !hint.isZero()));
        } catch (IllegalArgumentException e) {
            throw new BundleFormatException("bundle for '" + trustDomain + "' is invalid: " + e.getMessage(), e);
        }
    }

    private static JWK parseJwk(Map<?, ?> member, String where) {
        Map<String, Object> copy = new LinkedHashMap<>();
        member.forEach((name, value) -> copy.put(String.valueOf(name), value));
        try {
            JWK jwk = JWK.parse(copy);
            if (jwk.isPrivate()) {
                throw new BundleFormatException(where + " contains private key material; a bundle holds public keys only");
            }
            return jwk;
        } catch (ParseException e) {
            throw new BundleFormatException(where + " is not a valid JWK: " + e.getMessage(), e);
        }
    }

    private static X509Certificate x509Authority(JWK jwk, String where) {
        List<X509Certificate> chain = jwk.getParsedX509CertChain();
        if (chain == null || chain.size() != 1) {
            throw new BundleFormatException(where + " must carry exactly one certificate in 'x5c'; it has "
                    + (chain == null ? 0 : chain.size()));
        }
        X509Certificate certificate = chain.get(0);
        try {
            if (!JWK.parse(certificate).computeThumbprint().equals(jwk.computeThumbprint())) {
                throw new BundleFormatException(where + " has public parameters that do not match its 'x5c' certificate");
            }
        } catch (JOSEException e) {
            throw new BundleFormatException(where + " has an 'x5c' certificate with an unsupported key: " + e.getMessage(), e);
        }
        return certificate;
    }

    private static JwtAuthority jwtAuthority(JWK jwk, String where) {
        if (jwk.getKeyID() == null || jwk.getKeyID().isEmpty()) {
            throw new BundleFormatException(where + " has no 'kid'; every jwt-svid and wit-svid key needs one");
        }
        try {
            PublicKey key;
            if (KeyType.EC.equals(jwk.getKeyType())) {
                key = jwk.toECKey().toECPublicKey();
            } else if (KeyType.RSA.equals(jwk.getKeyType())) {
                key = jwk.toRSAKey().toRSAPublicKey();
            } else {
                throw new BundleFormatException(where + " has key type '" + jwk.getKeyType() + "'; valid: EC, RSA");
            }
            return new JwtAuthority(jwk.getKeyID(), key);
        } catch (JOSEException e) {
            throw new BundleFormatException(where + " has an unusable public key: " + e.getMessage(), e);
        }
    }

    private static Optional<Long> nonNegativeInteger(Map<String, Object> document, String name, TrustDomain trustDomain) {
        Object value = document.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof Long number) || number < 0) {
            throw new BundleFormatException("bundle for '" + trustDomain + "' has '" + name + "' = " + value
                    + "; it must be a non-negative integer");
        }
        return Optional.of(number);
    }

    private static JWK jwk(PublicKey key, KeyUse use, String keyId, JWSAlgorithm algorithm, Base64 certificate) {
        List<Base64> chain = certificate == null ? null : List.of(certificate);
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new IllegalArgumentException("ec key on an unsupported curve; valid: P-256, P-384, P-521");
            }
            return new ECKey.Builder(curve, ec).keyUse(use).keyID(keyId).algorithm(algorithm).x509CertChain(chain).build();
        }
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).keyUse(use).keyID(keyId).algorithm(algorithm).x509CertChain(chain).build();
        }
        throw new IllegalArgumentException("key algorithm '" + key.getAlgorithm() + "' is not supported; valid: EC, RSA");
    }

    private static JWSAlgorithm algorithmOf(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (Curve.P_384.equals(curve)) {
                return JWSAlgorithm.ES384;
            }
            if (Curve.P_521.equals(curve)) {
                return JWSAlgorithm.ES512;
            }
            return JWSAlgorithm.ES256;
        }
        return JWSAlgorithm.RS256;
    }

    private static Base64 der(X509Certificate certificate) {
        try {
            return Base64.encode(certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate '" + certificate.getSubjectX500Principal() + "'", e);
        }
    }
}
