package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.keys.Signer;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/**
 * Builds the CA certificates of a trust domain. Every CA certificate has: basicConstraints CA:true
 * (critical); keyUsage keyCertSign and cRLSign (critical); the trust domain's SPIFFE ID
 * ({@code spiffe://<trust domain>}) as its only URI SAN; subject and authority key identifiers; a
 * random 128-bit serial; and a subject unique per authority (its id is the DN serialNumber), so
 * relying parties never confuse two generations of CA.
 */
final class CaCertificates {
    private CaCertificates() {}

    /** A self-signed root for {@code key}. */
    static X509Certificate selfSigned(TrustDomain trustDomain, String authorityId, Signer key, Instant notBefore, Instant notAfter) {
        X500Name subject = subject(trustDomain, authorityId);
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
        byte[] keyId = X509Parts.keyIdentifier(publicKey);
        return build(trustDomain, subject, subject, publicKey, keyId, notBefore, notAfter, key);
    }

    /** An intermediate for {@code key}, signed by the upstream CA. */
    static X509Certificate intermediate(TrustDomain trustDomain, String authorityId, Signer key, UpstreamCa upstream,
            Instant notBefore, Instant notAfter) {
        X509Certificate issuerCertificate = upstream.signingCertificate();
        X500Name issuer = X500Name.getInstance(issuerCertificate.getSubjectX500Principal().getEncoded());
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
        return build(trustDomain, issuer, subject(trustDomain, authorityId), publicKey,
                X509Parts.subjectKeyIdOf(issuerCertificate), notBefore, notAfter, upstream.signer());
    }

    private static X509Certificate build(TrustDomain trustDomain, X500Name issuer, X500Name subject, SubjectPublicKeyInfo publicKey,
            byte[] authorityKeyId, Instant notBefore, Instant notAfter, Signer issuerKey) {
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, X509Parts.randomSerial(),
                Date.from(notBefore), Date.from(notAfter), subject, publicKey);
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, trustDomain.idString())));
            builder.addExtension(X509Parts.subjectKeyIdentifier(publicKey));
            builder.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(authorityKeyId));
        } catch (CertIOException e) {
            throw new AuthorityException("cannot encode ca certificate extensions: " + e.getMessage(), e);
        }
        return X509Parts.toCertificate(builder.build(
                SignerContentSigner.of(issuerKey, SignerContentSigner.algorithmOf(issuerKey.type()))));
    }

    private static X500Name subject(TrustDomain trustDomain, String authorityId) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, trustDomain.name())
                .addRDN(BCStyle.CN, "Sigil X.509 CA")
                .addRDN(BCStyle.SERIALNUMBER, authorityId)
                .build();
    }
}
