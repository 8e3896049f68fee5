package dev.sigil.server.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

class StatusBitsTest {

    /** The example of the Token Status List draft: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1 are bytes B9 A3. */
    @Test
    void bitsArePackedLeastSignificantFirstAsInTheDraftsExample() throws Exception {
        int[] statuses = {1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1};
        StatusBits bits = new StatusBits(statuses.length);
        for (int i = 0; i < statuses.length; i++) {
            if (statuses[i] == 1) {
                bits.setInvalid(i);
            }
        }
        assertThat(bits.bytes()).containsExactly(0xB9, 0xA3);
        assertThat(inflate(bits.encoded())).containsExactly(0xB9, 0xA3);
    }

    @Test
    void aMostlyValidListOfAMillionEntriesCompressesToAFewHundredBytes() throws Exception {
        StatusBits bits = new StatusBits(TokenStatusRegistry.LIST_SIZE);
        bits.setInvalid(7);
        bits.setInvalid(1_000_003);
        String encoded = bits.encoded();
        assertThat(encoded.length()).isLessThan(1_000);
        byte[] raw = inflate(encoded);
        assertThat(raw).hasSize((int) (TokenStatusRegistry.LIST_SIZE / 8));
        assertThat(raw[0]).isEqualTo((byte) 0x80);
        assertThat(raw[1_000_003 / 8]).isEqualTo((byte) (1 << (1_000_003 % 8)));
    }

    static byte[] inflate(String lst) throws Exception {
        Inflater inflater = new Inflater();
        inflater.setInput(Base64.getUrlDecoder().decode(lst));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!inflater.finished()) {
            int n = inflater.inflate(buffer);
            if (n == 0 && inflater.needsInput()) {
                throw new AssertionError("truncated zlib stream");
            }
            out.write(buffer, 0, n);
        }
        inflater.end();
        return out.toByteArray();
    }
}
