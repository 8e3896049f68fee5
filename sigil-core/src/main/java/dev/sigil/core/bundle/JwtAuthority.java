package dev.sigil.core.bundle;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Objects;

/**
 * A public key that JWT-SVIDs of a trust domain may be signed with, named by the key id that the
 * tokens carry in their {@code kid} header. Only EC and RSA keys are valid JWT-SVID authorities.
 */
public record JwtAuthority(String keyId, PublicKey publicKey) {
    public JwtAuthority {
        if (keyId == null || keyId.isBlank()) {
            throw new IllegalArgumentException("jwt authority key id is empty; every jwt-svid key needs a 'kid'");
        }
        Objects.requireNonNull(publicKey, "publicKey");
        if (!(publicKey instanceof ECPublicKey) && !(publicKey instanceof RSAPublicKey)) {
            throw new IllegalArgumentException("jwt authority '" + keyId + "' has a " + publicKey.getAlgorithm()
                    + " key; only EC and RSA keys are supported");
        }
    }

    /** Equal when the key ids match and the keys have the same encoding, whichever provider made them. */
    @Override
    public boolean equals(Object other) {
        return other instanceof JwtAuthority that
                && keyId.equals(that.keyId)
                && Arrays.equals(publicKey.getEncoded(), that.publicKey.getEncoded());
    }

    @Override
    public int hashCode() {
        return keyId.hashCode() * 31 + Arrays.hashCode(publicKey.getEncoded());
    }

    @Override
    public String toString() {
        return "JwtAuthority[kid=" + keyId + ", " + publicKey.getAlgorithm() + "]";
    }
}
