package dev.sigil.core.crypto;

import dev.sigil.core.SigilException;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM text for certificates (RFC 7468). Only public material goes through here; private keys are
 * read and written by the key managers, which own them.
 */
public final class Pem {
    private static final String CERTIFICATE = "CERTIFICATE";

    private Pem() {}

    /** One {@code CERTIFICATE} block per certificate, in order, each line at most 64 characters. */
    public static String encodeCertificates(List<X509Certificate> certificates) {
        StringBuilder out = new StringBuilder();
        for (X509Certificate certificate : certificates) {
            try {
                out.append(encode(CERTIFICATE, certificate.getEncoded()));
            } catch (CertificateException e) {
                throw new SigilException("cannot encode certificate '" + certificate.getSubjectX500Principal() + "': " + e.getMessage(), e);
            }
        }
        return out.toString();
    }

    /** A single PEM block of the given type ({@code CERTIFICATE}, {@code PUBLIC KEY}, ...). */
    public static String encode(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /**
     * Every {@code CERTIFICATE} block in {@code pem}, in order; other block types are skipped.
     *
     * @param source names where the text came from (a file path, a column), for error messages
     * @throws SigilException naming {@code source} when a block is malformed or there is no certificate
     */
    public static List<X509Certificate> parseCertificates(String pem, String source) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (byte[] der : decodeBlocks(pem, CERTIFICATE, source)) {
            certificates.add(parseCertificate(der, source));
        }
        if (certificates.isEmpty()) {
            throw new SigilException(source + " contains no PEM 'CERTIFICATE' block");
        }
        return List.copyOf(certificates);
    }

    /** Parses one DER-encoded certificate with the JDK's certificate factory. */
    public static X509Certificate parseCertificate(byte[] der, String source) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new SigilException(source + " holds a certificate that cannot be parsed: " + e.getMessage(), e);
        }
    }

    /** The DER bytes of every block of {@code type} in {@code pem}. */
    public static List<byte[]> decodeBlocks(String pem, String type, String source) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        List<byte[]> blocks = new ArrayList<>();
        int from = 0;
        while (true) {
            int start = pem.indexOf(begin, from);
            if (start < 0) {
                return blocks;
            }
            int stop = pem.indexOf(end, start + begin.length());
            if (stop < 0) {
                throw new SigilException(source + " has a '" + begin + "' line without a matching '" + end + "' line");
            }
            String body = pem.substring(start + begin.length(), stop).replaceAll("\\s", "");
            try {
                blocks.add(Base64.getDecoder().decode(body));
            } catch (IllegalArgumentException e) {
                throw new SigilException(source + " has a '" + type + "' block that is not valid base64: " + e.getMessage(), e);
            }
            from = stop + end.length();
        }
    }
}
