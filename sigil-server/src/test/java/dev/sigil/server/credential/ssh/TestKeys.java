package dev.sigil.server.credential.ssh;

import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;

/** OpenSSH public key lines made in Java, for tests that need no private key. */
final class TestKeys {
    private TestKeys() {
    }

    static String line(byte[] blob, String type) {
        return type + " " + Base64.getEncoder().encodeToString(blob) + " test";
    }

    static String ed25519() throws Exception {
        byte[] spki = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
        byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
        return line(new SshWire.Writer().string("ssh-ed25519").string(raw).toByteArray(), "ssh-ed25519");
    }

    static byte[] p256Point() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        ECPublicKey key = (ECPublicKey) generator.generateKeyPair().getPublic();
        byte[] point = new byte[65];
        point[0] = 4;
        put(key.getW().getAffineX(), point, 1);
        put(key.getW().getAffineY(), point, 33);
        return point;
    }

    static String ecdsa(byte[] point) {
        return line(new SshWire.Writer().string("ecdsa-sha2-nistp256").string("nistp256").string(point).toByteArray(),
                "ecdsa-sha2-nistp256");
    }

    static String rsa(int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(bits);
        RSAPublicKey key = (RSAPublicKey) generator.generateKeyPair().getPublic();
        return line(new SshWire.Writer().string("ssh-rsa").mpint(key.getPublicExponent()).mpint(key.getModulus())
                .toByteArray(), "ssh-rsa");
    }

    private static void put(BigInteger value, byte[] into, int offset) {
        byte[] bytes = value.toByteArray();
        int start = Math.max(0, bytes.length - 32);
        System.arraycopy(bytes, start, into, offset + 32 - (bytes.length - start), bytes.length - start);
    }
}
