package dev.sigil.server.status;

import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.zip.Deflater;

/**
 * The encoding of a one-bit-per-token status list (IETF OAuth Token Status List, {@code bits: 1}):
 * the status of token {@code i} is bit {@code i % 8} (least significant first) of byte {@code i / 8};
 * the byte array is compressed with DEFLATE in the ZLIB format (RFC 1950) and base64url-encoded
 * without padding as the {@code lst} member.
 */
final class StatusBits {
    private final byte[] bytes;

    StatusBits(long size) {
        this.bytes = new byte[(int) ((size + 7) / 8)];
    }

    void setInvalid(long index) {
        bytes[(int) (index >>> 3)] |= (byte) (1 << (index & 7));
    }

    boolean invalid(long index) {
        return (bytes[(int) (index >>> 3)] & (1 << (index & 7))) != 0;
    }

    byte[] bytes() {
        return bytes.clone();
    }

    /** The {@code lst} value: base64url(zlib(bytes)). */
    String encoded() {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            deflater.setInput(bytes);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, bytes.length / 64));
            byte[] buffer = new byte[8192];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return Base64.getUrlEncoder().withoutPadding().encodeToString(out.toByteArray());
        } finally {
            deflater.end();
        }
    }
}
