package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.security.PublicKey;

/**
 * Signs with a private key it never reveals. The key type fixes the algorithm
 * ({@link KeyType#signatureAlgorithm()}), so a caller cannot choose a weaker one.
 *
 * <p>Security properties: no method returns, serializes or prints the private key; {@code toString()}
 * names the key, never its material. Implementations are thread-safe.
 */
public interface Signer {
    KeyType type();

    PublicKey publicKey();

    /**
     * Signs {@code data} with the key type's algorithm. ECDSA signatures are DER-encoded
     * (an ASN.1 SEQUENCE of r and s), RSA signatures are PKCS#1 v1.5.
     *
     * @throws KeyManagerException when the key cannot sign (for example a hardware module is unreachable)
     */
    byte[] sign(byte[] data);
}
