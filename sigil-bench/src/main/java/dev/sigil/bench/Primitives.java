package dev.sigil.bench;

import dev.sigil.core.crypto.CryptoProviders;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * The raw signature primitives Sigil's signing paths are measured against: one ECDSA P-256 sign and
 * one verify through the same provider the server uses, with nothing else around them.
 */
final class Primitives {
    private final KeyPair pair;
    private final byte[] message = new byte[256];
    private final byte[] signature;

    Primitives() {
        try {
            KeyPairGenerator generator = CryptoProviders.keyPairGenerator("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            pair = generator.generateKeyPair();
            signature = sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] sign() throws GeneralSecurityException {
        Signature s = CryptoProviders.signature("SHA256withECDSA");
        s.initSign(pair.getPrivate());
        s.update(message);
        return s.sign();
    }

    boolean verify() throws GeneralSecurityException {
        Signature s = CryptoProviders.signature("SHA256withECDSA");
        s.initVerify(pair.getPublic());
        s.update(message);
        return s.verify(signature);
    }
}
