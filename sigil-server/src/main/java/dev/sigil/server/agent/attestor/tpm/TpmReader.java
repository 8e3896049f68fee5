package dev.sigil.server.agent.attestor.tpm;

import java.util.Arrays;

/**
 * Reads TPM 2.0 wire structures (big-endian, TPM2B = 16-bit size then bytes). Every read checks the
 * remaining length: truncated or oversized input raises {@link TpmFormatException}, never an
 * index error.
 */
final class TpmReader {
    private final byte[] data;
    private final String what;
    private int position;

    TpmReader(byte[] data, String what) {
        this.data = data;
        this.what = what;
    }

    int u8() {
        need(1);
        return data[position++] & 0xff;
    }

    int u16() {
        need(2);
        int value = ((data[position] & 0xff) << 8) | (data[position + 1] & 0xff);
        position += 2;
        return value;
    }

    long u32() {
        need(4);
        long value = 0;
        for (int i = 0; i < 4; i++) {
            value = (value << 8) | (data[position + i] & 0xff);
        }
        position += 4;
        return value;
    }

    long u64() {
        long high = u32();
        return (high << 32) | u32();
    }

    byte[] bytes(int length) {
        need(length);
        byte[] out = Arrays.copyOfRange(data, position, position + length);
        position += length;
        return out;
    }

    /** A TPM2B: a 16-bit size, then that many bytes. */
    byte[] sized() {
        return bytes(u16());
    }

    int position() {
        return position;
    }

    void end() {
        if (position != data.length) {
            throw new TpmFormatException(what + " has " + (data.length - position) + " trailing bytes");
        }
    }

    private void need(int length) {
        if (length < 0 || data.length - position < length) {
            throw new TpmFormatException(what + " is truncated at byte " + position + " (needs " + length + " more of " + data.length + ")");
        }
    }
}
