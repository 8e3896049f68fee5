package dev.sigil.server.agent.attestor.tpm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * TPM2_MakeCredential done outside the TPM (TPM 2.0 Part 1, §24 "Credential Protection"; Part 3,
 * MakeCredential): wraps a secret so that only the TPM holding the EK's private key can recover it
 * with ActivateCredential, and only for an object with exactly the given name (the AK). Recovering the
 * secret therefore proves the AK resides on the same TPM as the EK.
 *
 * <p>For an RSA EK (SHA-256 name algorithm, AES-128-CFB): a random seed is encrypted to the EK with
 * RSA-OAEP (SHA-256, label {@code "IDENTITY\0"}); the symmetric key is KDFa(seed, "STORAGE", name, 128)
 * and the HMAC key KDFa(seed, "INTEGRITY", 256); the blob is TPM2B(HMAC(encIdentity || name)) ||
 * encIdentity, where encIdentity is AES-128-CFB(zero IV) of TPM2B(secret).
 */
final class MakeCredential {
    private static final int SEED_BYTES = 32;

    /** The TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET ActivateCredential takes. */
    record Wrapped(byte[] credentialBlob, byte[] encryptedSecret) {
        Wrapped {
            credentialBlob = credentialBlob.clone();
            encryptedSecret = encryptedSecret.clone();
        }

        @Override
        public byte[] credentialBlob() {
            return credentialBlob.clone();
        }

        @Override
        public byte[] encryptedSecret() {
            return encryptedSecret.clone();
        }

        @Override
        public String toString() {
            return "Wrapped[" + credentialBlob.length + " + " + encryptedSecret.length + " bytes]";
        }
    }

    private MakeCredential() {
    }

    static Wrapped wrap(TpmPublic ek, byte[] objectName, byte[] secret, SecureRandom random) {
        if (secret.length == 0 || secret.length > 32) {
            throw new IllegalArgumentException("credential is " + secret.length + " bytes; 1 to 32 are allowed");
        }
        try {
            byte[] seed = new byte[SEED_BYTES];
            random.nextBytes(seed);
            Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
            oaep.init(Cipher.ENCRYPT_MODE, ek.key(), new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                    new PSource.PSpecified(label("IDENTITY"))), random);
            byte[] encryptedSeed = oaep.doFinal(seed);

            byte[] symmetricKey = kdfa(seed, "STORAGE", objectName, new byte[0], 128);
            byte[] hmacKey = kdfa(seed, "INTEGRITY", new byte[0], new byte[0], 256);
            Cipher aes = Cipher.getInstance("AES/CFB/NoPadding");
            aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(symmetricKey, "AES"), new IvParameterSpec(new byte[16]));
            byte[] encIdentity = aes.doFinal(sized(secret));
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
            hmac.update(encIdentity);
            byte[] integrity = hmac.doFinal(objectName);

            byte[] idObject = concat(sized(integrity), encIdentity);
            return new Wrapped(sized(idObject), sized(encryptedSeed));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a tpm credential: " + e.getMessage(), e);
        }
    }

    /** KDFa with HMAC-SHA-256 (TPM 2.0 Part 1, §11.4.10.2): counter || label || 0 || contextU || contextV || bits. */
    static byte[] kdfa(byte[] key, String label, byte[] contextU, byte[] contextV, int bits) throws GeneralSecurityException {
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(key, "HmacSHA256"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int counter = 1; out.size() * 8 < bits; counter++) {
            hmac.update(ByteBuffer.allocate(4).putInt(counter).array());
            hmac.update(label(label));
            hmac.update(contextU);
            hmac.update(contextV);
            hmac.update(ByteBuffer.allocate(4).putInt(bits).array());
            out.writeBytes(hmac.doFinal());
        }
        byte[] all = out.toByteArray();
        return java.util.Arrays.copyOf(all, bits / 8);
    }

    private static byte[] label(String label) {
        byte[] text = label.getBytes(StandardCharsets.US_ASCII);
        return java.util.Arrays.copyOf(text, text.length + 1);
    }

    static byte[] sized(byte[] data) {
        return ByteBuffer.allocate(2 + data.length).putShort((short) data.length).put(data).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }
}
