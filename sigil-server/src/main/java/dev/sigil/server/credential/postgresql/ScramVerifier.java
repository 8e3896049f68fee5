package dev.sigil.server.credential.postgresql;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 verifiers in PostgreSQL's {@code rolpassword} form,
 * {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} (RFC 5802, RFC 7677): the same
 * text as the JDBC driver's {@code PasswordUtil.encodeScramSha256}, which the tests hold it to, without
 * its per-call provider lookups (four {@code getInstance} and a key factory per verifier cost more
 * than the 16 iterations themselves). The HMAC and digest are cloned from instances made once.
 *
 * <p>Only for passwords of the broker's own alphabet (URL-safe base64): SASLprep leaves them as they
 * are, so their UTF-8 bytes are the PBKDF2 password. Anything else is refused rather than hashed
 * differently from what a client would compute.
 */
final class ScramVerifier {
    private static final Mac HMAC = newMac();
    private static final MessageDigest SHA256 = newDigest();
    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);

    private ScramVerifier() {
    }

    static String of(String password, byte[] salt, int iterations) {
        if (password.isEmpty() || !password.chars().allMatch(ScramVerifier::urlSafeBase64)) {
            throw new IllegalArgumentException("a scram verifier is computed here only for url-safe base64 passwords");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("scram iterations " + iterations + " is invalid; expected at least 1");
        }
        byte[] salted = hi(password.getBytes(StandardCharsets.US_ASCII), salt, iterations);
        Mac hmac = mac(salted);
        byte[] clientKey = hmac.doFinal(CLIENT_KEY);
        byte[] serverKey = hmac.doFinal(SERVER_KEY);
        byte[] storedKey = digest().digest(clientKey);
        Base64.Encoder base64 = Base64.getEncoder();
        return "SCRAM-SHA-256$" + iterations + ":" + base64.encodeToString(salt) + "$" + base64.encodeToString(storedKey) + ":"
                + base64.encodeToString(serverKey);
    }

    /** PBKDF2-HMAC-SHA-256 with one 32-byte block (RFC 5802's Hi). */
    private static byte[] hi(byte[] password, byte[] salt, int iterations) {
        Mac hmac = mac(password);
        hmac.update(salt);
        byte[] u = hmac.doFinal(new byte[] {0, 0, 0, 1});
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = hmac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = (Mac) HMAC.clone();
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (CloneNotSupportedException e) {
            Mac mac = newMac();
            try {
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
            } catch (GeneralSecurityException impossible) {
                throw new IllegalStateException("HmacSHA256 refused a key", impossible);
            }
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 refused a key", e);
        }
    }

    private static MessageDigest digest() {
        try {
            return (MessageDigest) SHA256.clone();
        } catch (CloneNotSupportedException e) {
            return newDigest();
        }
    }

    private static boolean urlSafeBase64(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    private static Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // a provider is chosen at init; clones of an initialised instance keep it
            mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every java runtime has HmacSHA256", e);
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }
}
