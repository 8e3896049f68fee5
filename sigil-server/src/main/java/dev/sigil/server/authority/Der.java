package dev.sigil.server.authority;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The DER encoding the signing hot path does by hand instead of building and re-encoding ASN.1 object
 * trees: tag-length-value assembly of already-encoded parts, and locating the first element of a
 * SEQUENCE (the signed part of a CSR). Only definite lengths; every certificate built from these
 * pieces is parsed back and path-validated by the JDK in the tests.
 */
final class Der {
    static final int INTEGER = 0x02;
    static final int BIT_STRING = 0x03;
    static final int OCTET_STRING = 0x04;
    static final int SEQUENCE = 0x30;
    /** {@code [2] IMPLICIT IA5String}: a dNSName GeneralName. */
    static final int DNS_NAME = 0x82;
    /** {@code [6] IMPLICIT IA5String}: a uniformResourceIdentifier GeneralName. */
    static final int URI = 0x86;
    /** {@code [3] EXPLICIT}: the extensions of a TBSCertificate. */
    static final int EXTENSIONS = 0xa3;

    private Der() {}

    /** A TLV whose value is the concatenation of {@code contents}. */
    static byte[] encode(int tag, byte[]... contents) {
        int length = 0;
        for (byte[] part : contents) {
            length += part.length;
        }
        byte[] head = header(tag, length);
        byte[] out = Arrays.copyOf(head, head.length + length);
        int position = head.length;
        for (byte[] part : contents) {
            System.arraycopy(part, 0, out, position, part.length);
            position += part.length;
        }
        return out;
    }

    static byte[] sequence(byte[]... elements) {
        return encode(SEQUENCE, elements);
    }

    /** A BIT STRING with no unused bits holding {@code bytes}. */
    static byte[] bitString(byte[] bytes) {
        return encode(BIT_STRING, new byte[] {0}, bytes);
    }

    static byte[] integer(BigInteger value) {
        return encode(INTEGER, value.toByteArray());
    }

    /** An IA5String-valued implicit tag; the caller has checked the text is ASCII. */
    static byte[] ascii(int tag, String text) {
        return encode(tag, text.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The bytes of the first element inside the SEQUENCE that {@code der} encodes, exactly as they
     * appear (for a CSR: the CertificationRequestInfo its signature covers).
     *
     * @throws IllegalArgumentException when {@code der} is not a SEQUENCE with a SEQUENCE first
     */
    static byte[] firstElementOfSequence(byte[] der) {
        if (der.length < 2 || (der[0] & 0xff) != SEQUENCE) {
            throw new IllegalArgumentException("not a DER sequence");
        }
        int inner = 1 + lengthOfLength(der, 1);
        if (inner >= der.length || (der[inner] & 0xff) != SEQUENCE) {
            throw new IllegalArgumentException("first element is not a sequence");
        }
        int contentStart = inner + 1 + lengthOfLength(der, inner + 1);
        long end = contentStart + (long) length(der, inner + 1);
        if (end > der.length) {
            throw new IllegalArgumentException("first element runs past the end");
        }
        return Arrays.copyOfRange(der, inner, (int) end);
    }

    private static byte[] header(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        int bytes = length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
        byte[] out = new byte[2 + bytes];
        out[0] = (byte) tag;
        out[1] = (byte) (0x80 | bytes);
        for (int i = 0; i < bytes; i++) {
            out[2 + i] = (byte) (length >>> (8 * (bytes - 1 - i)));
        }
        return out;
    }

    /** How many bytes the length field at {@code at} occupies. */
    private static int lengthOfLength(byte[] der, int at) {
        if (at >= der.length) {
            throw new IllegalArgumentException("truncated length");
        }
        int first = der[at] & 0xff;
        if (first < 0x80) {
            return 1;
        }
        int count = first & 0x7f;
        if (count == 0 || count > 4) {
            throw new IllegalArgumentException("unsupported length encoding");
        }
        return 1 + count;
    }

    private static int length(byte[] der, int at) {
        int first = der[at] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int count = first & 0x7f;
        if (at + count >= der.length) {
            throw new IllegalArgumentException("truncated length");
        }
        long value = 0;
        for (int i = 1; i <= count; i++) {
            value = (value << 8) | (der[at + i] & 0xff);
        }
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("length too large");
        }
        return (int) value;
    }
}
