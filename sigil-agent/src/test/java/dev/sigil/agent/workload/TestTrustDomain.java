package dev.sigil.agent.workload;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test trust domain: an EC P-256 root CA issuing X.509-SVIDs and an ES256 key signing JWT-SVIDs.
 * Shared with sigil-cli's tests through this module's test-jar: it returns the agent's
 * {@link X509Identity}, so it cannot live in sigil-testkit (sigil-agent depends on that module).
 */
public final class TestTrustDomain {
    private static final AtomicLong SERIALS = new AtomicLong(1);

    public final TrustDomain domain;
    public final X509Certificate ca;
    private final KeyPair caKeys;
    private final KeyPair jwtKeys;
    final String jwtKeyId;

    public TestTrustDomain(String name) {
        try {
            this.domain = TrustDomain.parse(name);
            this.caKeys = ecKeys();
            X500Name subject = new X500Name("O=Sigil Test,CN=" + name);
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, caKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, domain.idString())));
            this.ca = sign(builder, caKeys);
            this.jwtKeys = ecKeys();
            this.jwtKeyId = "jwt-" + name + "-" + SERIALS.incrementAndGet();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public SpiffeId id(String path) {
        return domain.id(path);
    }

    public SpiffeBundle bundle() {
        return new SpiffeBundle(domain, List.of(ca), List.of(new JwtAuthority(jwtKeyId, jwtKeys.getPublic())), 1, Optional.empty());
    }

    /** A fresh X.509-SVID (new key) for {@code path}, valid for an hour, hinted with the path without '/'. */
    public X509Identity x509(String path, Set<TrustDomain> federatesWith) {
        try {
            KeyPair keys = ecKeys();
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofHours(1))),
                    new X500Name("O=Sigil Test"), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            builder.addExtension(Extension.subjectAlternativeName, true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id(path).toString())));
            return new X509Identity(id(path), List.of(sign(builder, caKeys)), keys.getPrivate().getEncoded(), path.substring(1), federatesWith);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Identity x509(String path) {
        return x509(path, Set.of());
    }

    /** A JWT-SVID for {@code subject} signed with this domain's key, {@code exp} at {@code expiry}. */
    public String jwt(SpiffeId subject, List<String> audience, Instant expiry) {
        return sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(jwtKeyId).type(JOSEObjectType.JWT).build(),
                new JWTClaimsSet.Builder().subject(subject.toString()).audience(audience)
                        .issueTime(new Date()).expirationTime(Date.from(expiry)).build());
    }

    /** Any JWS over {@code claims} signed with this domain's JWT key, for tests of malformed tokens. */
    String sign(JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(new ECDSASigner((ECPrivateKey) jwtKeys.getPrivate()));
            // as a Sigil server signs: the low-s form (dev.sigil.core.crypto.JwsCanonical)
            return dev.sigil.core.crypto.JwsCanonical.withLowS(jwt.serialize(), ((ECPrivateKey) jwtKeys.getPrivate()).getParams().getOrder());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ecKeys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
