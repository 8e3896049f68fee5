package dev.sigil.server.authority;

import dev.sigil.core.crypto.Pem;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** An operator's upstream CA, made with the JDK provider and written to PEM files as an operator would hand them over. */
record TestUpstream(Path certificates, Path privateKey, X509Certificate root, List<X509Certificate> chain) {

    /** A self-signed root CA valid from {@code notBefore} to {@code notAfter}. */
    static TestUpstream root(Path directory, Instant notBefore, Instant notAfter) throws Exception {
        KeyPair rootKey = TestCsrs.ec("secp384r1");
        X509Certificate root = ca(new X500Name("CN=Upstream Root, O=Corp"), rootKey, new X500Name("CN=Upstream Root, O=Corp"), rootKey,
                notBefore, notAfter);
        return write(directory, List.of(root), rootKey);
    }

    /** An upstream intermediate under a root: the operator gives the intermediate's key and the chain up to the root. */
    static TestUpstream intermediateUnderRoot(Path directory, Instant notBefore, Instant notAfter) throws Exception {
        KeyPair rootKey = TestCsrs.ec("secp256r1");
        KeyPair middleKey = TestCsrs.ec("secp256r1");
        X500Name rootName = new X500Name("CN=Corp Root, O=Corp");
        X509Certificate root = ca(rootName, rootKey, rootName, rootKey, notBefore, notAfter);
        X509Certificate middle = ca(new X500Name("CN=Corp Issuing CA, O=Corp"), middleKey, rootName, rootKey, notBefore, notAfter);
        return write(directory, List.of(middle, root), middleKey);
    }

    private static X509Certificate ca(X500Name subject, KeyPair subjectKey, X500Name issuer, KeyPair issuerKey, Instant notBefore,
            Instant notAfter) throws Exception {
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, BigInteger.valueOf(System.nanoTime()),
                Date.from(notBefore), Date.from(notAfter), subject, SubjectPublicKeyInfo.getInstance(subjectKey.getPublic().getEncoded()));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey.getPublic()));
        String algorithm = issuerKey.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey.getPrivate())));
    }

    private static TestUpstream write(Path directory, List<X509Certificate> chain, KeyPair signingKey) throws Exception {
        Path certificates = directory.resolve("upstream-chain.pem");
        Path privateKey = directory.resolve("upstream-key.pem");
        Files.writeString(certificates, Pem.encodeCertificates(chain));
        StringWriter key = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(key)) {
            writer.writeObject(new JcaPKCS8Generator(signingKey.getPrivate(), null));
        }
        Files.writeString(privateKey, key.toString());
        return new TestUpstream(certificates, privateKey, chain.get(chain.size() - 1), chain);
    }
}
