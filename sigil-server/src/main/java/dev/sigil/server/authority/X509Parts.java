package dev.sigil.server.authority;

import dev.sigil.core.crypto.CryptoProviders;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bouncycastle.asn1.BERTags;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;

/** Small pieces shared by CA and leaf certificate building. */
final class X509Parts {
    private static final SecureRandom RANDOM = fastRandom();

    private X509Parts() {}

    /** The native provider's DRBG when loaded (no lock, no file read per call); the JDK default otherwise. */
    private static SecureRandom fastRandom() {
        return CryptoProviders.nativeProvider().map(provider -> {
            try {
                return SecureRandom.getInstance("DEFAULT", provider);
            } catch (GeneralSecurityException e) {
                return new SecureRandom();
            }
        }).orElseGet(SecureRandom::new);
    }

    /** A positive random 128-bit serial number (RFC 5280 allows up to 20 octets; CA/B asks for 64+ random bits). */
    static BigInteger randomSerial() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        BigInteger serial = new BigInteger(1, bytes);
        return serial.signum() == 0 ? BigInteger.ONE : serial;
    }

    /** RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bit string. */
    static byte[] keyIdentifier(SubjectPublicKeyInfo publicKey) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(publicKey.getPublicKeyData().getBytes());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }

    static Extension subjectKeyIdentifier(SubjectPublicKeyInfo publicKey) {
        return extension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(publicKey)));
    }

    /** The key identifier a certificate declares for itself, or one computed from its key when it declares none. */
    static byte[] subjectKeyIdOf(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (extension != null) {
            return SubjectKeyIdentifier.getInstance(
                    org.bouncycastle.asn1.ASN1OctetString.getInstance(extension).getOctets()).getKeyIdentifier();
        }
        return keyIdentifier(SubjectPublicKeyInfo.getInstance(certificate.getPublicKey().getEncoded()));
    }

    static Extension extension(org.bouncycastle.asn1.ASN1ObjectIdentifier oid, boolean critical, org.bouncycastle.asn1.ASN1Encodable value) {
        try {
            return new Extension(oid, critical, value.toASN1Primitive().getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode extension " + oid, e);
        }
    }

    /**
     * The DER encoding of an X.509 validity time (RFC 5280 section 4.1.2.5: UTCTime through 2049,
     * GeneralizedTime from 2050), truncated to seconds. Recently encoded seconds are cached, since a
     * burst of mints shares them; the returned array must not be modified.
     */
    static byte[] timeDer(Instant instant) {
        long second = instant.getEpochSecond();
        int slot = (int) Math.floorMod(second, (long) RECENT_TIMES.length());
        CachedTime cached = RECENT_TIMES.get(slot);
        if (cached != null && cached.epochSecond() == second) {
            return cached.der();
        }
        byte[] der = encodeTime(instant);
        RECENT_TIMES.set(slot, new CachedTime(second, der));
        return der;
    }

    private static final AtomicReferenceArray<CachedTime> RECENT_TIMES = new AtomicReferenceArray<>(64);

    private record CachedTime(long epochSecond, byte[] der) {}

    private static byte[] encodeTime(Instant instant) {
        ZonedDateTime utc = instant.atZone(ZoneOffset.UTC);
        boolean utcTime = utc.getYear() >= 1950 && utc.getYear() < 2050;
        String text = (utcTime ? twoDigits(utc.getYear() % 100) : String.format("%04d", utc.getYear()))
                + twoDigits(utc.getMonthValue()) + twoDigits(utc.getDayOfMonth())
                + twoDigits(utc.getHour()) + twoDigits(utc.getMinute()) + twoDigits(utc.getSecond()) + "Z";
        return Der.ascii(utcTime ? BERTags.UTC_TIME : BERTags.GENERALIZED_TIME, text);
    }

    private static String twoDigits(int value) {
        return value < 10 ? "0" + value : Integer.toString(value);
    }

    static X509Certificate toCertificate(X509CertificateHolder holder) {
        try {
            return toCertificate(holder.getEncoded());
        } catch (IOException e) {
            throw new AuthorityException("cannot encode a certificate just built: " + e.getMessage(), e);
        }
    }

    static X509Certificate toCertificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new AuthorityException("cannot parse a certificate just built: " + e.getMessage(), e);
        }
    }
}
