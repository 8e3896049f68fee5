package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DerTest {
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 127, 128, 255, 256, 65535, 65536, 70000})
    void octetStringsOfEveryLengthFormMatchBouncyCastle(int length) throws Exception {
        byte[] content = new byte[length];
        if (length > 0) {
            content[length - 1] = 7;
        }

        byte[] ours = Der.encode(Der.OCTET_STRING, content);

        assertThat(ours).isEqualTo(new DEROctetString(content).getEncoded());
    }

    @Test
    void sequencesAndIntegersMatchBouncyCastle() throws Exception {
        BigInteger serial = new BigInteger("ff00ff00ff00ff00ff00ff00ff00ff00", 16);

        byte[] ours = Der.sequence(Der.integer(serial), Der.integer(BigInteger.ONE));

        assertThat(ours).isEqualTo(new DERSequence(new ASN1Integer[] {new ASN1Integer(serial), new ASN1Integer(1)}).getEncoded());
        assertThat(ASN1Integer.getInstance(ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(ours)).getObjectAt(0)).getValue())
                .isEqualTo(serial);
    }

    @Test
    void firstElementOfASequenceIsReturnedByteForByte() {
        byte[] first = Der.sequence(Der.encode(Der.OCTET_STRING, new byte[300]));
        byte[] outer = Der.sequence(first, Der.integer(BigInteger.TEN));

        assertThat(Der.firstElementOfSequence(outer)).isEqualTo(first);
        assertThat(ASN1OctetString.getInstance(ASN1Sequence.getInstance(Der.firstElementOfSequence(outer)).getObjectAt(0)).getOctets())
                .hasSize(300);
    }

    @Test
    void malformedInputIsRefused() {
        assertThatThrownBy(() -> Der.firstElementOfSequence(new byte[] {0x04, 0x00})).hasMessageContaining("not a DER sequence");
        assertThatThrownBy(() -> Der.firstElementOfSequence(new byte[] {0x30, 0x02, 0x02, 0x00})).hasMessageContaining("not a sequence");
        assertThatThrownBy(() -> Der.firstElementOfSequence(new byte[] {0x30, 0x04, 0x30, 0x7f, 0, 0})).hasMessageContaining("past the end");
        assertThatThrownBy(() -> Der.firstElementOfSequence(new byte[] {0x30, (byte) 0x80, 0x30, 0})).hasMessageContaining("unsupported length");
    }
}
