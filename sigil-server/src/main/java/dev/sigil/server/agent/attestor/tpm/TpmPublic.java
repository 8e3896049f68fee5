package dev.sigil.server.agent.attestor.tpm;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;

/**
 * A parsed TPMT_PUBLIC of an RSA key (the EK or the AK), as the TPM reports it.
 *
 * <p>Only RSA keys with the SHA-256 name algorithm are accepted: that is what the EK templates of the
 * TCG EK Credential Profile (low range, index 0x01c00002) and the agent's AK use. The {@link #name()} is
 * {@code nameAlg || SHA-256(TPMT_PUBLIC)}, which binds a credential (MakeCredential) to exactly this key.
 */
record TpmPublic(byte[] area, int nameAlg, long attributes, int symmetric, int scheme, int schemeHash, RSAPublicKey key) {
    static final int ALG_RSA = 0x0001;
    static final int ALG_AES = 0x0006;
    static final int ALG_SHA256 = 0x000B;
    static final int ALG_NULL = 0x0010;
    static final int ALG_RSASSA = 0x0014;
    static final int ALG_CFB = 0x0043;

    static final long FIXED_TPM = 1L << 1;
    static final long FIXED_PARENT = 1L << 4;
    static final long SENSITIVE_DATA_ORIGIN = 1L << 5;
    static final long RESTRICTED = 1L << 16;
    static final long DECRYPT = 1L << 17;
    static final long SIGN = 1L << 18;
    private static final int MAX_AREA = 2048;

    TpmPublic {
        area = area.clone();
    }

    static TpmPublic parse(byte[] area, String what) {
        if (area == null || area.length == 0 || area.length > MAX_AREA) {
            throw new TpmFormatException(what + " is " + (area == null ? 0 : area.length) + " bytes; expected a TPMT_PUBLIC of 1 to "
                    + MAX_AREA + " bytes");
        }
        TpmReader in = new TpmReader(area, what);
        int type = in.u16();
        if (type != ALG_RSA) {
            throw new TpmFormatException(what + " has key type 0x" + Integer.toHexString(type) + "; only rsa (0x1) keys are supported");
        }
        int nameAlg = in.u16();
        if (nameAlg != ALG_SHA256) {
            throw new TpmFormatException(what + " has name algorithm 0x" + Integer.toHexString(nameAlg) + "; only sha256 (0xb) is supported");
        }
        long attributes = in.u32();
        in.sized(); // authPolicy
        int symmetric = in.u16();
        if (symmetric != ALG_NULL) {
            int keyBits = in.u16();
            int mode = in.u16();
            if (symmetric != ALG_AES || keyBits != 128 || mode != ALG_CFB) {
                throw new TpmFormatException(what + " has symmetric 0x" + Integer.toHexString(symmetric) + "/" + keyBits + "/0x"
                        + Integer.toHexString(mode) + "; only aes-128-cfb is supported");
            }
        }
        int scheme = in.u16();
        int schemeHash = scheme == ALG_NULL ? ALG_NULL : in.u16();
        int keyBits = in.u16();
        long exponent = in.u32();
        byte[] modulus = in.sized();
        in.end();
        if (keyBits < 2048 || modulus.length * 8 != keyBits) {
            throw new TpmFormatException(what + " has a " + keyBits + "-bit key with a " + modulus.length * 8
                    + "-bit modulus; rsa keys of 2048 bits or more are required");
        }
        try {
            RSAPublicKey key = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(new BigInteger(1, modulus),
                    BigInteger.valueOf(exponent == 0 ? 65537 : exponent)));
            return new TpmPublic(area, nameAlg, attributes, symmetric, scheme, schemeHash, key);
        } catch (GeneralSecurityException e) {
            throw new TpmFormatException(what + " is not a usable rsa key: " + e.getMessage());
        }
    }

    boolean has(long attribute) {
        return (attributes & attribute) == attribute;
    }

    /** The TPM name: the name algorithm (2 bytes) followed by SHA-256 of the public area. */
    byte[] name() {
        byte[] digest = sha256(area);
        return ByteBuffer.allocate(2 + digest.length).putShort((short) nameAlg).put(digest).array();
    }

    @Override
    public byte[] area() {
        return area.clone();
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return digest.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sha-256 is unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "TpmPublic[rsa " + key.getModulus().bitLength() + " bits, attributes 0x" + Long.toHexString(attributes) + "]";
    }
}
