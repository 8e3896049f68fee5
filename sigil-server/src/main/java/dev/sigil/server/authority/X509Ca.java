package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.keys.Signer;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

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
 * <p>The TBSCertificate is assembled from DER pieces, those that do not depend on the request encoded
 * once per CA, so a mint costs little more than its one signature. Immutable and thread-safe.
 */
final class X509Ca {
    static final Duration BACKDATE = Duration.ofSeconds(10);
    private static final Pattern DNS_LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    /** {@code [0] EXPLICIT INTEGER 2}: an X.509 v3 certificate. */
    private static final byte[] VERSION_3 = {(byte) 0xa0, 0x03, 0x02, 0x01, 0x02};
    private static final byte[] LEAF_BASIC_CONSTRAINTS = der(new Extension(Extension.basicConstraints, true,
            octets(new BasicConstraints(false))));
    private static final byte[] EC_KEY_USAGE = der(new Extension(Extension.keyUsage, true,
            octets(new KeyUsage(KeyUsage.digitalSignature))));
    private static final byte[] RSA_KEY_USAGE = der(new Extension(Extension.keyUsage, true,
            octets(new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))));
    private static final byte[] SERVER_AND_CLIENT_AUTH = der(new Extension(Extension.extendedKeyUsage, false,
            octets(new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))));
    private static final byte[] SAN_OID = der(Extension.subjectAlternativeName);
    private static final byte[] SUBJECT_KEY_ID_OID = der(Extension.subjectKeyIdentifier);

    private final String authorityId;
    private final List<X509Certificate> chainTail;
    private final Signer signer;
    private final byte[] signatureAlgorithm;
    private final byte[] issuer;
    private final byte[] leafSubject;
    private final byte[] authorityKeyId;
    private final Instant notBefore;
    private final Instant notAfter;

    /**
     * @param chainTail certificates sent after the leaf: this CA's own certificate when it is an
     *                  intermediate, then the upstream intermediates; empty for a self-signed root
     */
    X509Ca(String authorityId, X509Certificate certificate, List<X509Certificate> chainTail, Signer signer) {
        this.authorityId = authorityId;
        this.chainTail = List.copyOf(chainTail);
        this.signer = signer;
        this.signatureAlgorithm = der(SignerContentSigner.algorithmOf(signer.type()));
        this.issuer = certificate.getSubjectX500Principal().getEncoded();
        X500Name caSubject = X500Name.getInstance(issuer);
        String organization = caSubject.getRDNs(BCStyle.O).length == 0 ? "Sigil"
                : caSubject.getRDNs(BCStyle.O)[0].getFirst().getValue().toString();
        this.leafSubject = der(new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, organization).build());
        this.authorityKeyId = der(new Extension(Extension.authorityKeyIdentifier, false,
                octets(new AuthorityKeyIdentifier(X509Parts.subjectKeyIdOf(certificate)))));
        this.notBefore = certificate.getNotBefore().toInstant();
        this.notAfter = certificate.getNotAfter().toInstant();
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
        byte[][] names = new byte[1 + dnsNames.size()][];
        names[0] = Der.ascii(Der.URI, spiffeId.toString());
        for (int i = 0; i < dnsNames.size(); i++) {
            names[i + 1] = Der.ascii(Der.DNS_NAME, checkDnsName(dnsNames.get(i)));
        }
        byte[] subjectAltName = Der.sequence(SAN_OID, Der.encode(Der.OCTET_STRING, Der.sequence(names)));
        byte[] subjectKeyId = Der.sequence(SUBJECT_KEY_ID_OID,
                Der.encode(Der.OCTET_STRING, Der.encode(Der.OCTET_STRING, X509Parts.keyIdentifier(key.publicKeyInfo()))));
        byte[] tbs = Der.sequence(
                VERSION_3,
                Der.integer(X509Parts.randomSerial()),
                signatureAlgorithm,
                issuer,
                Der.sequence(X509Parts.timeDer(start), X509Parts.timeDer(end)),
                leafSubject,
                key.encoded(),
                Der.encode(Der.EXTENSIONS, Der.sequence(LEAF_BASIC_CONSTRAINTS, key.rsa() ? RSA_KEY_USAGE : EC_KEY_USAGE,
                        SERVER_AND_CLIENT_AUTH, subjectAltName, subjectKeyId, authorityKeyId)));
        byte[] certificate = Der.sequence(tbs, signatureAlgorithm, Der.bitString(signer.sign(tbs)));
        return new X509Svid(spiffeId, certificate, chainTail, end);
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

    private static byte[] octets(ASN1Encodable value) {
        return der(value);
    }

    private static byte[] der(ASN1Encodable value) {
        try {
            return value.toASN1Primitive().getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    private static byte[] der(ASN1ObjectIdentifier oid) {
        return der((ASN1Encodable) oid);
    }

    @Override
    public String toString() {
        return "X509Ca[" + authorityId + ", " + signer.type().configName() + ", until " + notAfter + "]";
    }
}
