package dev.sigil.server.credential.ssh;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.EllipticCurve;
import java.util.Arrays;
import java.util.Base64;

/**
 * A workload's OpenSSH public key, as it may be certified: {@code ssh-ed25519},
 * {@code ecdsa-sha2-nistp256} (a point on the curve) or {@code ssh-rsa} of at least
 * {@value #MIN_RSA_BITS} bits. Built only by {@link #parse}, which checks the whole blob, so a held
 * instance is always one sshd can verify signatures with.
 */
final class SshPublicKey {
    static final int MIN_RSA_BITS = 2048;
    private static final int MAX_RSA_BITS = 16384;
    private static final int MAX_LINE = 16 * 1024;
    private static final EllipticCurve P256 = p256();
    static final java.util.regex.Pattern WHITESPACE = java.util.regex.Pattern.compile("\\s+");

    private final String type;
    private final byte[] blob;

    private SshPublicKey(String type, byte[] blob) {
        this.type = type;
        this.blob = blob;
    }

    /**
     * Parses an OpenSSH public key line, {@code <type> <base64> [comment]}.
     *
     * @throws IllegalArgumentException naming what is wrong (never echoing more than the key type)
     */
    static SshPublicKey parse(String line) {
        if (line == null || line.isBlank()) {
            throw new IllegalArgumentException("public_key is missing; give an OpenSSH public key line such as 'ssh-ed25519 AAAA...'");
        }
        if (line.length() > MAX_LINE) {
            throw new IllegalArgumentException("public_key is " + line.length() + " characters; at most " + MAX_LINE + " are accepted");
        }
        String[] parts = WHITESPACE.split(line.strip(), 3);
        String type = parts[0];
        if (!type.equals("ssh-ed25519") && !type.equals("ecdsa-sha2-nistp256") && !type.equals("ssh-rsa")) {
            throw new IllegalArgumentException("public_key type '" + printable(type) + "' is not supported; use ssh-ed25519, "
                    + "ecdsa-sha2-nistp256 or ssh-rsa (" + MIN_RSA_BITS + " bits or more)");
        }
        if (parts.length < 2) {
            throw new IllegalArgumentException("public_key has no base64 key after '" + type + "'");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("public_key's key after '" + type + "' is not valid base64");
        }
        try {
            check(type, blob);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("public_key is a malformed " + type + " key: " + e.getMessage());
        }
        return new SshPublicKey(type, blob);
    }

    private static void check(String type, byte[] blob) {
        SshWire.Reader reader = new SshWire.Reader(blob);
        String inner = reader.utf8();
        if (!inner.equals(type)) {
            throw new IllegalArgumentException("the blob says it is a '" + printable(inner) + "' key");
        }
        switch (type) {
            case "ssh-ed25519" -> {
                if (reader.string().length != 32) {
                    throw new IllegalArgumentException("an ed25519 key is 32 bytes");
                }
            }
            case "ecdsa-sha2-nistp256" -> {
                if (!reader.utf8().equals("nistp256")) {
                    throw new IllegalArgumentException("the curve is not nistp256");
                }
                checkP256Point(reader.string());
            }
            default -> {
                BigInteger e = reader.positiveMpint();
                BigInteger n = reader.positiveMpint();
                if (n.bitLength() < MIN_RSA_BITS || n.bitLength() > MAX_RSA_BITS) {
                    throw new IllegalArgumentException("the modulus has " + n.bitLength() + " bits; use "
                            + MIN_RSA_BITS + " to " + MAX_RSA_BITS);
                }
                if (!e.testBit(0) || e.compareTo(BigInteger.valueOf(3)) < 0 || !n.testBit(0)) {
                    throw new IllegalArgumentException("the exponent or modulus is not a valid RSA value");
                }
            }
        }
        if (!reader.atEnd()) {
            throw new IllegalArgumentException("the blob has trailing bytes");
        }
    }

    private static void checkP256Point(byte[] point) {
        if (point.length != 65 || point[0] != 4) {
            throw new IllegalArgumentException("the point is not an uncompressed 65-byte P-256 point");
        }
        BigInteger p = ((ECFieldFp) P256.getField()).getP();
        BigInteger x = new BigInteger(1, Arrays.copyOfRange(point, 1, 33));
        BigInteger y = new BigInteger(1, Arrays.copyOfRange(point, 33, 65));
        BigInteger left = y.multiply(y).mod(p);
        BigInteger right = x.pow(3).add(P256.getA().multiply(x)).add(P256.getB()).mod(p);
        if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0 || !left.equals(right)) {
            throw new IllegalArgumentException("the point is not on the P-256 curve");
        }
    }

    private static EllipticCurve p256() {
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            return parameters.getParameterSpec(ECParameterSpec.class).getCurve();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no P-256 curve", e);
        }
    }

    private static String printable(String text) {
        String cut = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** The key's type name, e.g. {@code ssh-ed25519}. */
    String type() {
        return type;
    }

    /** The wire-format key blob (type name first). */
    byte[] blob() {
        return blob.clone();
    }

    /** The key's fields after its type name: what a certificate carries after its nonce. */
    byte[] fieldsAfterType() {
        int skip = 4 + type.getBytes(StandardCharsets.US_ASCII).length;
        return Arrays.copyOfRange(blob, skip, blob.length);
    }

    /** The certificate type certifying this key, e.g. {@code ssh-ed25519-cert-v01@openssh.com}. */
    String certificateType() {
        return type + "-cert-v01@openssh.com";
    }

    /** The canonical {@code <type> <base64>} line, without comment. */
    String line() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    /** The fingerprint as {@code ssh-keygen -l} prints it: {@code SHA256:} and unpadded base64. */
    String fingerprint() {
        return fingerprint(blob);
    }

    static String fingerprint(byte[] blob) {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(sha256(blob));
    }

    private static final MessageDigest SHA256 = sha256Prototype();

    /** SHA-256 of {@code data}, from a clone of one digest (no provider lookup per call). */
    static byte[] sha256(byte[] data) {
        try {
            return ((MessageDigest) SHA256.clone()).digest(data);
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the SHA-256 digest cannot be cloned", e);
        }
    }

    private static MessageDigest sha256Prototype() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SshPublicKey key && Arrays.equals(blob, key.blob);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blob);
    }

    @Override
    public String toString() {
        return type + " " + fingerprint();
    }
}
