package dev.sigil.core.crypto;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * One token, one encoding. A compact JWS can be re-encoded without its signer's key and still verify:
 * an ECDSA signature (r, s) is equally valid as (r, n - s), and base64url admits padding and non-zero
 * unused bits in the last character. A copy re-encoded that way is a different string for the same
 * token, which defeats lookups by token hash (leak reports, replay caches). Sigil therefore signs only
 * the canonical form ({@link #lowS}) and its verifiers accept only the canonical form ({@link #problem}).
 *
 * <p>Canonical means: exactly three segments of unpadded base64url ({@code [A-Za-z0-9_-]}) that
 * re-encode to themselves, and for ECDSA a fixed-length R||S signature with {@code s <= n/2} (low-S, as
 * Bitcoin's BIP 62 and libsecp256k1 require).
 */
public final class JwsCanonical {
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private JwsCanonical() {
    }

    /**
     * Why {@code compact} is not in canonical form, or empty when it is. {@code curveOrder} is the order
     * {@code n} of the signing key's curve for an ECDSA signature, or null for RSA.
     */
    public static Optional<String> problem(String compact, BigInteger curveOrder) {
        String[] parts = compact.split("\\.", -1);
        if (parts.length != 3) {
            return Optional.of("is not a compact jws of three segments");
        }
        String[] names = {"header", "payload", "signature"};
        byte[] signature = null;
        for (int i = 0; i < 3; i++) {
            String part = parts[i];
            for (int c = 0; c < part.length(); c++) {
                char ch = part.charAt(c);
                boolean ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
                if (!ok) {
                    return Optional.of("has a " + names[i] + " segment that is not unpadded base64url (padding or another character)");
                }
            }
            byte[] decoded;
            try {
                decoded = DECODER.decode(part);
            } catch (IllegalArgumentException e) {
                return Optional.of("has a " + names[i] + " segment that is not valid base64url");
            }
            if (!ENCODER.encodeToString(decoded).equals(part)) {
                return Optional.of("has a " + names[i] + " segment in a non-canonical base64url encoding (non-zero unused bits)");
            }
            signature = decoded;
        }
        if (curveOrder != null) {
            int half = signature.length / 2;
            if (signature.length % 2 != 0 || half == 0) {
                return Optional.of("has an ecdsa signature that is not r||s of equal halves");
            }
            BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, half, signature.length));
            if (s.compareTo(curveOrder.shiftRight(1)) > 0) {
                return Optional.of("has a high-s ecdsa signature; only the low-s form (s <= n/2) is accepted");
            }
        }
        return Optional.empty();
    }

    /**
     * The canonical form of a compact JWS that may have been re-encoded (padding, non-zero unused bits,
     * high-S): what Sigil signed, and so what its registries hash. Empty when {@code compact} is not a
     * compact JWS at all. Used to look up a reported (leaked) token whatever copy of it was found.
     */
    public static Optional<String> canonical(String compact) {
        String[] parts = compact.strip().split("\\.", -1);
        if (parts.length != 3) {
            return Optional.empty();
        }
        byte[][] decoded = new byte[3][];
        try {
            for (int i = 0; i < 3; i++) {
                decoded[i] = DECODER.decode(parts[i]);
            }
            com.nimbusds.jose.JWSAlgorithm alg = com.nimbusds.jose.JWSHeader.parse(
                    com.nimbusds.jose.util.Base64URL.encode(decoded[0])).getAlgorithm();
            BigInteger order = curveOrder(alg);
            byte[] signature = order == null ? decoded[2] : lowS(decoded[2], order);
            return Optional.of(ENCODER.encodeToString(decoded[0]) + "." + ENCODER.encodeToString(decoded[1]) + "."
                    + ENCODER.encodeToString(signature));
        } catch (IllegalArgumentException | java.text.ParseException e) {
            return Optional.empty();
        }
    }

    private static BigInteger curveOrder(com.nimbusds.jose.JWSAlgorithm alg) {
        String curve = com.nimbusds.jose.JWSAlgorithm.ES256.equals(alg) ? "secp256r1"
                : com.nimbusds.jose.JWSAlgorithm.ES384.equals(alg) ? "secp384r1"
                : com.nimbusds.jose.JWSAlgorithm.ES512.equals(alg) ? "secp521r1" : null;
        if (curve == null) {
            return null;
        }
        try {
            java.security.AlgorithmParameters parameters = java.security.AlgorithmParameters.getInstance("EC");
            parameters.init(new java.security.spec.ECGenParameterSpec(curve));
            return parameters.getParameterSpec(java.security.spec.ECParameterSpec.class).getOrder();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("the jdk lacks curve " + curve, e);
        }
    }

    /**
     * {@code compact} (an ECDSA-signed JWS of a key on the curve of order {@code curveOrder}) with its
     * signature in the low-S form; other signers (Nimbus, Go's crypto/ecdsa) pick either form.
     */
    public static String withLowS(String compact, BigInteger curveOrder) {
        int dot = compact.lastIndexOf('.');
        byte[] signature = DECODER.decode(compact.substring(dot + 1));
        return compact.substring(0, dot + 1) + ENCODER.encodeToString(lowS(signature, curveOrder));
    }

    /**
     * The low-S form of a fixed-length R||S ECDSA signature: {@code s} replaced by {@code n - s} when
     * {@code s > n/2}. Both verify; only the low-S one is canonical.
     */
    public static byte[] lowS(byte[] concat, BigInteger curveOrder) {
        int half = concat.length / 2;
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(concat, half, concat.length));
        if (s.compareTo(curveOrder.shiftRight(1)) <= 0) {
            return concat;
        }
        byte[] low = curveOrder.subtract(s).toByteArray();
        byte[] out = Arrays.copyOf(concat, concat.length);
        Arrays.fill(out, half, concat.length, (byte) 0);
        int copy = Math.min(low.length, half);
        System.arraycopy(low, low.length - copy, out, concat.length - copy, copy);
        return out;
    }
}
