package dev.sigil.server.credential.ssh;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The SSH wire encoding (RFC 4251 section 5) that certificates and public keys are made of:
 * {@code uint32}, {@code uint64}, {@code string} (uint32 length + bytes) and {@code mpint}
 * (a two's-complement big-endian string with no needless leading byte).
 */
final class SshWire {
    private SshWire() {
    }

    /** Appends values; {@link #toByteArray()} returns what was written so far. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);

        Writer uint32(long value) {
            out.write((int) (value >>> 24));
            out.write((int) (value >>> 16));
            out.write((int) (value >>> 8));
            out.write((int) value);
            return this;
        }

        Writer uint64(long value) {
            uint32(value >>> 32);
            return uint32(value & 0xffffffffL);
        }

        Writer string(byte[] value) {
            uint32(value.length);
            out.writeBytes(value);
            return this;
        }

        Writer string(String value) {
            return string(value.getBytes(StandardCharsets.UTF_8));
        }

        Writer mpint(BigInteger value) {
            return string(value.signum() == 0 ? new byte[0] : value.toByteArray());
        }

        Writer raw(byte[] value) {
            out.writeBytes(value);
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    /**
     * Reads values from a blob. Every read checks the remaining length, so a truncated or lying blob
     * fails with {@link IllegalArgumentException} rather than reading past its end.
     */
    static final class Reader {
        private final byte[] data;
        private int position;

        Reader(byte[] data) {
            this.data = data;
        }

        long uint32() {
            need(4);
            long value = ((data[position] & 0xffL) << 24) | ((data[position + 1] & 0xffL) << 16)
                    | ((data[position + 2] & 0xffL) << 8) | (data[position + 3] & 0xffL);
            position += 4;
            return value;
        }

        byte[] string() {
            long length = uint32();
            if (length > data.length - position) {
                throw new IllegalArgumentException("a field claims " + length + " bytes but only "
                        + (data.length - position) + " remain");
            }
            byte[] value = Arrays.copyOfRange(data, position, position + (int) length);
            position += (int) length;
            return value;
        }

        String utf8() {
            return new String(string(), StandardCharsets.UTF_8);
        }

        /** A non-negative mpint in its minimal encoding; anything else is malformed. */
        BigInteger positiveMpint() {
            byte[] bytes = string();
            if (bytes.length == 0 || (bytes[0] & 0x80) != 0 || (bytes[0] == 0 && bytes.length > 1 && (bytes[1] & 0x80) == 0)) {
                throw new IllegalArgumentException("an integer is not a minimal positive mpint");
            }
            return new BigInteger(1, bytes);
        }

        boolean atEnd() {
            return position == data.length;
        }

        private void need(int bytes) {
            if (data.length - position < bytes) {
                throw new IllegalArgumentException("the blob ends early");
            }
        }
    }
}
