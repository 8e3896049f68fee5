package dev.sigil.server.credential.ssh;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.keys.Signer;
import java.math.BigInteger;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * The SSH certificate authority: a key manager {@link Signer} seen through the SSH wire format. It
 * encodes the CA public key as OpenSSH does and turns the signer's JCA signatures into SSH signature
 * blobs. The private key stays in the key manager; this class only ever holds the handle.
 *
 * <p>Key type to SSH algorithm is fixed by the key: {@code ec-p256} signs {@code ecdsa-sha2-nistp256},
 * {@code ec-p384} {@code ecdsa-sha2-nistp384}, {@code rsa-2048} {@code rsa-sha2-256} (never SHA-1
 * {@code ssh-rsa} signatures, which OpenSSH refuses by default).
 */
final class SshCa {
    private final Signer signer;
    private final String keyType;
    private final String signatureAlgorithm;
    private final byte[] publicKeyBlob;
    private final String fingerprint;

    SshCa(Signer signer) {
        this.signer = Objects.requireNonNull(signer, "signer");
        KeyType type = signer.type();
        SshWire.Writer blob = new SshWire.Writer();
        switch (type) {
            case EC_P256, EC_P384 -> {
                String curve = type == KeyType.EC_P256 ? "nistp256" : "nistp384";
                keyType = "ecdsa-sha2-" + curve;
                signatureAlgorithm = keyType;
                ECPublicKey key = (ECPublicKey) signer.publicKey();
                int size = (type.bits() + 7) / 8;
                byte[] point = new byte[1 + 2 * size];
                point[0] = 4;
                copyUnsigned(key.getW().getAffineX(), point, 1, size);
                copyUnsigned(key.getW().getAffineY(), point, 1 + size, size);
                blob.string(keyType).string(curve).string(point);
            }
            case RSA_2048 -> {
                keyType = "ssh-rsa";
                signatureAlgorithm = "rsa-sha2-256";
                RSAPublicKey key = (RSAPublicKey) signer.publicKey();
                blob.string(keyType).mpint(key.getPublicExponent()).mpint(key.getModulus());
            }
            default -> throw new IllegalArgumentException("ssh ca key type " + type.configName() + " is not supported");
        }
        publicKeyBlob = blob.toByteArray();
        fingerprint = SshPublicKey.fingerprint(publicKeyBlob);
    }

    /** Appends the CA public key in wire format as an SSH string: a certificate's signature key field. */
    void writePublicKeyBlob(SshWire.Writer writer) {
        writer.string(publicKeyBlob);
    }

    /** The line for sshd's {@code TrustedUserCAKeys}: {@code ecdsa-sha2-nistp256 AAAA... comment}. */
    String publicKeyLine(String comment) {
        return keyType + " " + Base64.getEncoder().encodeToString(publicKeyBlob) + " " + comment;
    }

    /** Signs {@code data} and returns the SSH signature blob (algorithm name and signature). */
    byte[] sign(byte[] data) {
        byte[] signature = signer.sign(data);
        SshWire.Writer blob = new SshWire.Writer().string(signatureAlgorithm);
        if (signatureAlgorithm.startsWith("ecdsa-")) {
            BigInteger[] rs = derToRs(signature);
            blob.string(new SshWire.Writer().mpint(rs[0]).mpint(rs[1]).toByteArray());
        } else {
            blob.string(signature);
        }
        return blob.toByteArray();
    }

    /** The two INTEGERs of a DER {@code SEQUENCE { r, s }} as the signer returns for ECDSA. */
    static BigInteger[] derToRs(byte[] der) {
        int[] position = {0};
        expect(der, position, 0x30);
        int length = length(der, position);
        if (position[0] + length != der.length) {
            throw new IllegalStateException("the signer returned a malformed ECDSA signature");
        }
        BigInteger[] rs = new BigInteger[2];
        for (int i = 0; i < 2; i++) {
            expect(der, position, 0x02);
            int size = length(der, position);
            if (size == 0 || position[0] + size > der.length) {
                throw new IllegalStateException("the signer returned a malformed ECDSA signature");
            }
            rs[i] = new BigInteger(1, Arrays.copyOfRange(der, position[0], position[0] + size));
            position[0] += size;
        }
        return rs;
    }

    private static void expect(byte[] der, int[] position, int tag) {
        if (position[0] >= der.length || (der[position[0]++] & 0xff) != tag) {
            throw new IllegalStateException("the signer returned a malformed ECDSA signature");
        }
    }

    private static int length(byte[] der, int[] position) {
        if (position[0] >= der.length) {
            throw new IllegalStateException("the signer returned a malformed ECDSA signature");
        }
        int first = der[position[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        if (first != 0x81 || position[0] >= der.length) {
            throw new IllegalStateException("the signer returned a malformed ECDSA signature");
        }
        return der[position[0]++] & 0xff;
    }

    private static void copyUnsigned(BigInteger value, byte[] into, int offset, int size) {
        byte[] bytes = value.toByteArray();
        int start = Math.max(0, bytes.length - size);
        int length = bytes.length - start;
        System.arraycopy(bytes, start, into, offset + size - length, length);
    }

    /** The CA key's fingerprint, {@code SHA256:...}. */
    String fingerprint() {
        return fingerprint;
    }
}
