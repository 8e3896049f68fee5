package dev.sigil.core.crypto;

import com.nimbusds.jose.JWSAlgorithm;

/**
 * The closed set of asymmetric key types Sigil creates and signs with. Each fixes its signature
 * algorithm, so no caller ever chooses a curve or hash by string.
 */
public enum KeyType {
    EC_P256("ec-p256", "EC", "secp256r1", 256, "SHA256withECDSA", JWSAlgorithm.ES256),
    EC_P384("ec-p384", "EC", "secp384r1", 384, "SHA384withECDSA", JWSAlgorithm.ES384),
    RSA_2048("rsa-2048", "RSA", null, 2048, "SHA256withRSA", JWSAlgorithm.RS256);

    private final String configName;
    private final String jcaKeyAlgorithm;
    private final String curve;
    private final int bits;
    private final String signatureAlgorithm;
    private final JWSAlgorithm jwsAlgorithm;

    KeyType(String configName, String jcaKeyAlgorithm, String curve, int bits, String signatureAlgorithm,
            JWSAlgorithm jwsAlgorithm) {
        this.configName = configName;
        this.jcaKeyAlgorithm = jcaKeyAlgorithm;
        this.curve = curve;
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
        this.jwsAlgorithm = jwsAlgorithm;
    }

    /** The name used in configuration files and on the command line, e.g. {@code ec-p256}. */
    public String configName() {
        return configName;
    }

    /** JCA key algorithm: {@code EC} or {@code RSA}. */
    public String jcaKeyAlgorithm() {
        return jcaKeyAlgorithm;
    }

    /** JCA curve name for EC keys; empty for RSA. */
    public java.util.Optional<String> curve() {
        return java.util.Optional.ofNullable(curve);
    }

    public int bits() {
        return bits;
    }

    /** JCA signature algorithm, e.g. {@code SHA256withECDSA}; signatures are DER for ECDSA. */
    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    /** The JWS algorithm a JWT signed with this key type uses. */
    public JWSAlgorithm jwsAlgorithm() {
        return jwsAlgorithm;
    }

    /** Parses {@code ec-p256}, {@code ec-p384} or {@code rsa-2048} (also the JWS names ES256, ES384, RS256). */
    public static KeyType parse(String text) {
        if (text != null) {
            for (KeyType type : values()) {
                if (type.configName.equalsIgnoreCase(text) || type.jwsAlgorithm.getName().equalsIgnoreCase(text)) {
                    return type;
                }
            }
        }
        throw new IllegalArgumentException("unknown key type '" + text + "'; valid: ec-p256, ec-p384, rsa-2048");
    }
}
