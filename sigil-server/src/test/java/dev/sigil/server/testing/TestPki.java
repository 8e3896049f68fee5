package dev.sigil.server.testing;

import dev.sigil.server.tls.TlsIdentity;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
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
 * A throwaway certificate authority for transport tests: a self-signed EC P-256 root that issues
 * X.509-SVID-shaped leaves (one URI SAN, not a CA, digitalSignature, server+client auth, 127.0.0.1).
 */
public final class TestPki {
    private static final AtomicLong SERIALS = new AtomicLong(1000);

    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final Instant now;

    private TestPki(KeyPair caKeys, X509Certificate caCertificate, Instant now) {
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
        this.now = now;
    }

    /** A CA valid one day around {@code now}. */
    public static TestPki create(String trustDomain, Instant now) {
        try {
            KeyPair keys = ecKeys();
            X500Name name = new X500Name("O=Sigil Test,CN=" + trustDomain);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + trustDomain)));
            return new TestPki(keys, sign(builder, keys), now);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** A leaf for {@code uri} valid for {@code lifetime} from the CA's "now". */
    public TlsIdentity issue(String uri, Duration lifetime) {
        return issue("O=Sigil Test", uri, lifetime);
    }

    /** A leaf with the given subject (for example {@code CN=node-1,O=Sigil Test}) for {@code uri}. */
    public TlsIdentity issue(String subject, String uri, Duration lifetime) {
        try {
            KeyPair keys = ecKeys();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(lifetime)),
                    new X500Name(subject), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            List<GeneralName> names = new ArrayList<>();
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
            names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
            names.add(new GeneralName(GeneralName.dNSName, "localhost"));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            return new TlsIdentity(List.of(sign(builder, caKeys), caCertificate), keys.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public TlsIdentity issue(String uri) {
        return issue(uri, Duration.ofHours(1));
    }

    /** A client context presenting {@code identity} (or nothing when null) and trusting this CA. */
    public SSLContext clientContext(TlsIdentity identity) {
        return clientContext(identity, caCertificate);
    }

    /** A client context presenting {@code identity} (or nothing when null) and trusting {@code serverCa}. */
    public static SSLContext clientContext(TlsIdentity identity, X509Certificate serverCa) {
        return clientContext(identity, java.util.List.of(serverCa));
    }

    /** A client context trusting every one of {@code serverCas} (a bundle of several servers' authorities). */
    public static SSLContext clientContext(TlsIdentity identity, java.util.List<X509Certificate> serverCas) {
        try {
            KeyManagerFactory keyManagers = null;
            if (identity != null) {
                KeyStore keyStore = KeyStore.getInstance("PKCS12");
                keyStore.load(null, null);
                keyStore.setKeyEntry("client", identity.privateKey(), new char[0], identity.chain().toArray(X509Certificate[]::new));
                keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keyManagers.init(keyStore, new char[0]);
            }
            KeyStore trustStore = KeyStore.getInstance("PKCS12");
            trustStore.load(null, null);
            for (int i = 0; i < serverCas.size(); i++) {
                trustStore.setCertificateEntry("ca" + i, serverCas.get(i));
            }
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trustStore);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers == null ? null : keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
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
