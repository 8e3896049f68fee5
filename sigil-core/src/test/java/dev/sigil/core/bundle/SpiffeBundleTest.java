package dev.sigil.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.TrustDomain;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class SpiffeBundleTest {
    static final TrustDomain DOMAIN = TrustDomain.parse("example.org");
    static final KeyPair CA_KEY = ec("secp256r1");
    static final KeyPair OTHER_CA_KEY = ec("secp384r1");
    static final X509Certificate CA = selfSigned(CA_KEY, "SHA256withECDSA");
    static final X509Certificate OTHER_CA = selfSigned(OTHER_CA_KEY, "SHA384withECDSA");
    static final KeyPair JWT_KEY = ec("secp256r1");

    static SpiffeBundle bundle() {
        return new SpiffeBundle(DOMAIN, List.of(CA, OTHER_CA), List.of(new JwtAuthority("kid-1", JWT_KEY.getPublic())), 7,
                Optional.of(Duration.ofMinutes(5)));
    }

    @Test
    void documentRoundTripsWithAuthoritiesSequenceAndRefreshHint() {
        SpiffeBundle parsed = SpiffeBundle.parse(DOMAIN, bundle().toJson());

        assertThat(parsed).isEqualTo(bundle());
        assertThat(parsed.jwtAuthority("kid-1")).isPresent();
        assertThat(parsed.jwtAuthority("kid-2")).isEmpty();
    }

    @Test
    void documentFollowsTheSpiffeBundleFormat() throws Exception {
        Map<String, Object> json = JSONObjectUtils.parse(bundle().toJson());

        assertThat(json).containsEntry("spiffe_sequence", 7L).containsEntry("spiffe_refresh_hint", 300L);
        List<Object> keys = JSONObjectUtils.getJSONArray(json, "keys");
        assertThat(keys).hasSize(3);
        Map<?, ?> x509 = (Map<?, ?>) keys.get(0);
        assertThat(x509.get("use")).isEqualTo("x509-svid");
        assertThat((List<?>) x509.get("x5c")).hasSize(1);
        assertThat(x509.get("kty")).isEqualTo("EC");
        Map<?, ?> jwt = (Map<?, ?>) keys.get(2);
        assertThat(jwt.get("use")).isEqualTo("jwt-svid");
        assertThat(jwt.get("kid")).isEqualTo("kid-1");
        assertThat(jwt.containsKey("x5c")).isFalse();
        assertThat(bundle().toJson()).doesNotContain("\"d\"");
    }

    @Test
    void oidcJwksHoldsOnlyJwtKeysMarkedForSignatures() throws Exception {
        JWKSet jwks = JWKSet.parse(bundle().jwtAuthoritiesJwks());

        assertThat(jwks.getKeys()).hasSize(1);
        JWK key = jwks.getKeys().get(0);
        assertThat(key.getKeyID()).isEqualTo("kid-1");
        assertThat(key.getKeyUse().getValue()).isEqualTo("sig");
        assertThat(key.getAlgorithm().getName()).isEqualTo("ES256");
        assertThat(jwks.getAdditionalMembers()).isEmpty();
    }

    @Test
    void pemHoldsEveryX509Authority() {
        assertThat(Pem.parseCertificates(bundle().x509AuthoritiesPem(), "test")).containsExactly(CA, OTHER_CA);
    }

    @Test
    void keysWithAnUnknownUseAreIgnored() {
        String json = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\",\"use\":\"future-svid\"}],\"spiffe_sequence\":1}";

        SpiffeBundle parsed = SpiffeBundle.parse(DOMAIN, json);

        assertThat(parsed.x509Authorities()).isEmpty();
        assertThat(parsed.jwtAuthorities()).isEmpty();
        assertThat(parsed.sequence()).isEqualTo(1);
        assertThat(parsed.refreshHint()).isEmpty();
    }

    @Test
    void keyWithoutUseIsRefused() {
        String json = replaceFirst(bundle().toJson(), "\"use\":\"x509-svid\",", "");

        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, json))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("key 0 of the bundle for 'example.org' has no 'use'");
    }

    @Test
    void x509KeyWithoutExactlyOneCertificateIsRefused() throws Exception {
        Map<String, Object> json = JSONObjectUtils.parse(new SpiffeBundle(DOMAIN, List.of(CA), List.of(), 1, Optional.empty()).toJson());
        String der = Base64.getEncoder().encodeToString(CA.getEncoded());
        firstKey(json).put("x5c", List.of(der, der));

        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, JSONObjectUtils.toJSONString(json)))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("exactly one certificate in 'x5c'; it has 2");
    }

    @Test
    void x509KeyWhoseParametersDoNotMatchItsCertificateIsRefused() throws Exception {
        Map<String, Object> json = JSONObjectUtils.parse(new SpiffeBundle(DOMAIN, List.of(CA), List.of(), 1, Optional.empty()).toJson());
        Map<String, Object> otherKey = new ECKey.Builder(Curve.P_256, (ECPublicKey) JWT_KEY.getPublic()).build().toJSONObject();
        firstKey(json).put("x", otherKey.get("x"));
        firstKey(json).put("y", otherKey.get("y"));

        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, JSONObjectUtils.toJSONString(json)))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("key 0 of the bundle for 'example.org'");
    }

    @Test
    void jwtKeyWithoutKidIsRefused() {
        String json = replaceFirst(bundle().toJson(), "\"kid\":\"kid-1\",", "").replace(",\"kid\":\"kid-1\"", "");

        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, json))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("has no 'kid'");
    }

    @Test
    void duplicateJwtKeyIdsAreRefused() {
        assertThatThrownBy(() -> new SpiffeBundle(DOMAIN, List.of(), List.of(new JwtAuthority("k", JWT_KEY.getPublic()),
                new JwtAuthority("k", OTHER_CA_KEY.getPublic())), 0, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'k' appears twice");
    }

    @Test
    void privateKeyMaterialIsRefused() {
        Map<String, Object> leaked = new ECKey.Builder(Curve.P_256, (ECPublicKey) JWT_KEY.getPublic())
                .privateKey(JWT_KEY.getPrivate()).keyUse(new KeyUse("jwt-svid")).keyID("a").build().toJSONObject();
        String json = JSONObjectUtils.toJSONString(Map.of("keys", List.of(leaked)));

        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, json))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("private key material");
    }

    @Test
    void malformedTopLevelMembersAreRefused() {
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "not json")).isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("is not a JSON object");
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "{\"spiffe_sequence\":1}")).isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("has no 'keys' array");
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "{\"keys\":[],\"spiffe_sequence\":-1}"))
                .isInstanceOf(BundleFormatException.class).hasMessageContaining("'spiffe_sequence' = -1");
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "{\"keys\":[],\"spiffe_refresh_hint\":1.5}"))
                .isInstanceOf(BundleFormatException.class).hasMessageContaining("'spiffe_refresh_hint' = 1.5");
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "{\"keys\":[],\"spiffe_sequence\":\"3\"}"))
                .isInstanceOf(BundleFormatException.class).hasMessageContaining("non-negative integer");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> firstKey(Map<String, Object> json) throws Exception {
        return (Map<String, Object>) JSONObjectUtils.getJSONArray(json, "keys").get(0);
    }

    private static String replaceFirst(String text, String target, String replacement) {
        int at = text.indexOf(target);
        assertThat(at).as("'%s' in %s", target, text).isGreaterThanOrEqualTo(0);
        return text.substring(0, at) + replacement + text.substring(at + target.length());
    }

    private static KeyPair ec(String curve) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(curve));
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate selfSigned(KeyPair key, String algorithm) {
        try {
            X500Name name = new X500Name("O=example.org, CN=test ca");
            Instant now = Instant.parse("2026-01-01T00:00:00Z");
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(name, BigInteger.TEN, Date.from(now),
                    Date.from(now.plus(Duration.ofDays(1))), name, SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded()));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(key.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aJsonNullIsRefusedAsNotABundleRatherThanFailingInside() {
        // what a federated bundle endpoint (or an admin API caller) may send: refused with a clear reason
        assertThatThrownBy(() -> SpiffeBundle.parse(DOMAIN, "null"))
                .isInstanceOf(BundleFormatException.class)
                .hasMessageContaining("is not a JSON object");
    }
}
