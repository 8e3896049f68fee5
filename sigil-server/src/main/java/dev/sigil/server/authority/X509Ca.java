package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.keys.Signer;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/**
 * One active X.509 CA: signs X.509-SVID leaves for public keys whose possession was already proven.
 *
 * <p>Every leaf satisfies the X.509-SVID specification: exactly one URI SAN, the SPIFFE ID (plus any
 * DNS SANs asked for); basicConstraints CA:false (critical); keyUsage digitalSignature, plus
 * keyEncipherment for RSA keys, never keyCertSign or cRLSign (critical); extendedKeyUsage serverAuth
 * and clientAuth; subject and authority key identifiers; a random 128-bit serial. Validity starts
 * {@link #BACKDATE} before now (tolerating clock skew, never before the CA's own not-before) and ends
 * at now + TTL or at the CA's not-after, whichever is first: no leaf outlives its CA.
 *
 * <p>Immutable and thread-safe; everything that does not depend on the request is built once.
 */
final class X509Ca {
    static final Duration BACKDATE = Duration.ofSeconds(10);
    private static final Pattern DNS_LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Extension LEAF_BASIC_CONSTRAINTS =
            X509Parts.extension(Extension.basicConstraints, true, new BasicConstraints(false));
    private static final Extension EC_KEY_USAGE =
            X509Parts.extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    private static final Extension RSA_KEY_USAGE =
            X509Parts.extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    private static final Extension SERVER_AND_CLIENT_AUTH = X509Parts.extension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));

    private final String authorityId;
    private final X509Certificate certificate;
    private final List<X509Certificate> chainTail;
    private final Signer signer;
    private final AlgorithmIdentifier signatureAlgorithm;
    private final X500Name issuer;
    private final X500Name leafSubject;
    private final Extension authorityKeyId;
    private final Instant notBefore;
    private final Instant notAfter;

    /**
     * @param chainTail certificates sent after the leaf: this CA's own certificate when it is an
     *                  intermediate, then the upstream intermediates; empty for a self-signed root
     */
    X509Ca(String authorityId, X509Certificate certificate, List<X509Certificate> chainTail, Signer signer) {
        this.authorityId = authorityId;
        this.certificate = certificate;
        this.chainTail = List.copyOf(chainTail);
        this.signer = signer;
        this.signatureAlgorithm = SignerContentSigner.algorithmOf(signer.type());
        this.issuer = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        this.leafSubject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, trustDomainOf(issuer)).build();
        this.authorityKeyId = X509Parts.extension(Extension.authorityKeyIdentifier, false,
                new AuthorityKeyIdentifier(X509Parts.subjectKeyIdOf(certificate)));
        this.notBefore = certificate.getNotBefore().toInstant();
        this.notAfter = certificate.getNotAfter().toInstant();
    }

    String authorityId() {
        return authorityId;
    }

    X509Certificate certificate() {
        return certificate;
    }

    Instant notAfter() {
        return notAfter;
    }

    /** Signs a leaf for {@code key}; the caller has checked that {@code spiffeId} is in this CA's trust domain. */
    X509Svid mint(SpiffeId spiffeId, CsrVerifier.ProvenKey key, Duration ttl, List<String> dnsNames, Instant now) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("x509-svid ttl is " + ttl + "; it must be positive");
        }
        Instant start = now.minus(BACKDATE).truncatedTo(ChronoUnit.SECONDS);
        start = start.isBefore(notBefore) ? notBefore : start;
        Instant requestedEnd = now.plus(ttl);
        Instant end = (requestedEnd.isAfter(notAfter) ? notAfter : requestedEnd).truncatedTo(ChronoUnit.SECONDS);
        if (!end.isAfter(now)) {
            throw new AuthorityException("x509 authority " + authorityId + " expires at " + notAfter + "; it cannot sign at " + now);
        }
        List<GeneralName> names = new ArrayList<>(1 + dnsNames.size());
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId.toString()));
        for (String dnsName : dnsNames) {
            names.add(new GeneralName(GeneralName.dNSName, checkDnsName(dnsName)));
        }
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, X509Parts.randomSerial(),
                Date.from(start), Date.from(end), leafSubject, key.publicKeyInfo());
        try {
            builder.addExtension(LEAF_BASIC_CONSTRAINTS);
            builder.addExtension(key.rsa() ? RSA_KEY_USAGE : EC_KEY_USAGE);
            builder.addExtension(SERVER_AND_CLIENT_AUTH);
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            builder.addExtension(X509Parts.subjectKeyIdentifier(key.publicKeyInfo()));
            builder.addExtension(authorityKeyId);
        } catch (CertIOException e) {
            throw new AuthorityException("cannot encode x509-svid extensions: " + e.getMessage(), e);
        }
        X509Certificate leaf = X509Parts.toCertificate(builder.build(SignerContentSigner.of(signer, signatureAlgorithm)));
        List<X509Certificate> chain = new ArrayList<>(1 + chainTail.size());
        chain.add(leaf);
        chain.addAll(chainTail);
        return new X509Svid(spiffeId, chain, end);
    }

    /** A DNS name for a SAN: letters, digits and hyphens in labels of 1 to 63, optionally a leading "*." wildcard. */
    static String checkDnsName(String name) {
        String labels = name != null && name.startsWith("*.") ? name.substring(2) : name;
        boolean valid = labels != null && !labels.isEmpty() && name.length() <= 253;
        if (valid) {
            for (String label : labels.split("\\.", -1)) {
                valid &= DNS_LABEL.matcher(label).matches();
            }
        }
        if (!valid) {
            throw new IllegalArgumentException("dns name '" + name + "' is invalid; use labels of letters, digits and"
                    + " '-' separated by '.', optionally starting with '*.'");
        }
        return name;
    }

    private static String trustDomainOf(X500Name caSubject) {
        return caSubject.getRDNs(BCStyle.O).length == 0 ? "Sigil"
                : caSubject.getRDNs(BCStyle.O)[0].getFirst().getValue().toString();
    }

    @Override
    public String toString() {
        return "X509Ca[" + authorityId + ", " + signer.type().configName() + ", until " + notAfter + "]";
    }
}
