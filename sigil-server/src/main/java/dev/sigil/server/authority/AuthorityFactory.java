package dev.sigil.server.authority;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManager;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Creates new authorities: generates the key inside the key manager and the public material (CA
 * certificate or JWK) for the journal. The new authority's key is deleted again if anything after
 * its generation fails, so a failed attempt leaves nothing behind.
 */
final class AuthorityFactory {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final String X509_KEY_PREFIX = "x509-ca-";
    static final String JWT_KEY_PREFIX = "jwt-signer-";
    static final String WIT_KEY_PREFIX = "wit-signer-";

    private final AuthorityConfig config;
    private final KeyManager keys;

    AuthorityFactory(AuthorityConfig config, KeyManager keys) {
        this.config = config;
        this.keys = keys;
    }

    /** A new authority of {@code kind} in state prepared, valid from {@code now} for the configured TTL. */
    AuthorityRecord create(AuthorityKind kind, Instant now, String owner) {
        String authorityId = newId();
        Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS);
        Instant notAfter = notBefore.plus(config.ttlOf(kind));
        Optional<UpstreamCa> upstream = kind == AuthorityKind.X509 ? config.upstream() : Optional.empty();
        if (upstream.isPresent() && upstream.get().notAfter().isBefore(notAfter)) {
            notAfter = upstream.get().notAfter().truncatedTo(ChronoUnit.SECONDS);
            if (Duration.between(notBefore, notAfter).compareTo(AuthorityConfig.MINIMUM_TTL) < 0) {
                throw new AuthorityException("upstream ca " + upstream.get() + " expires at " + upstream.get().notAfter()
                        + "; it is too close to expiry to sign a new intermediate (renew the upstream certificate)");
            }
        }
        String keyId = switch (kind) {
            case X509 -> X509_KEY_PREFIX;
            case JWT -> JWT_KEY_PREFIX;
            case WIT -> WIT_KEY_PREFIX;
        } + authorityId;
        KeyType keyType = kind == AuthorityKind.X509 ? config.caKeyType() : config.jwtKeyType();
        KeyHandle key = keys.generate(keyId, keyType);
        try {
            Optional<String> certificate = Optional.empty();
            Optional<String> chain = Optional.empty();
            Optional<String> jwk = Optional.empty();
            if (kind == AuthorityKind.X509) {
                X509Certificate ca = upstream.isPresent()
                        ? CaCertificates.intermediate(config.trustDomain(), authorityId, key, upstream.get(), notBefore, notAfter)
                        : CaCertificates.selfSigned(config.trustDomain(), authorityId, key, notBefore, notAfter);
                certificate = Optional.of(Pem.encodeCertificates(List.of(ca)));
                chain = upstream.map(upstreamCa -> Pem.encodeCertificates(upstreamCa.chain()));
            } else {
                jwk = Optional.of(publicJwk(key.publicKey(), authorityId, keyType, kind).toJSONString());
            }
            return new AuthorityRecord(authorityId, kind, AuthorityState.PREPARED, keyId, keyType, certificate, chain, jwk,
                    notBefore, notAfter, now, Optional.empty(), Optional.empty(), Optional.empty(), owner);
        } catch (RuntimeException e) {
            keys.delete(keyId);
            throw e;
        }
    }

    /** The public JWK recorded for a JWT authority: kid, alg and use {@code jwt-svid}. */
    static JWK publicJwk(PublicKey key, String keyId, KeyType type) {
        return publicJwk(key, keyId, type, AuthorityKind.JWT);
    }

    /** The public JWK recorded for a JWT or WIT authority: kid, alg and use {@code jwt-svid} or {@code wit-svid}. */
    static JWK publicJwk(PublicKey key, String keyId, KeyType type, AuthorityKind kind) {
        KeyUse use = new KeyUse(kind == AuthorityKind.WIT ? "wit-svid" : "jwt-svid");
        if (key instanceof ECPublicKey ec) {
            return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec)
                    .keyID(keyId).algorithm(type.jwsAlgorithm()).keyUse(use).build();
        }
        return new RSAKey.Builder((RSAPublicKey) key).keyID(keyId).algorithm(type.jwsAlgorithm()).keyUse(use).build();
    }

    private static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
