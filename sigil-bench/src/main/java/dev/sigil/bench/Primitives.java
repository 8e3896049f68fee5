package dev.sigil.bench;

import dev.sigil.core.crypto.CryptoProviders;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * The raw signature primitives Sigil's signing paths are measured against: one ECDSA P-256 sign and
 * one verify through the same provider the server uses, with nothing else around them — as fast as the
 * primitive can be: each thread reuses one {@link Signature} already initialised with its key (a JCA
 * signature object returns to its initialised state after each {@code sign()} or {@code verify()}), as
 * the server's signing pool does, so the baseline pays no lookup or key setup per operation.
 */
final class Primitives {
    private final KeyPair pair;
    private final byte[] message = new byte[256];
    private final byte[] signature;
    private final ThreadLocal<Signature> signer;
    private final ThreadLocal<Signature> verifier;

    Primitives() {
        try {
            KeyPairGenerator generator = CryptoProviders.keyPairGenerator("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            pair = generator.generateKeyPair();
            signer = ThreadLocal.withInitial(() -> ready(true));
            verifier = ThreadLocal.withInitial(() -> ready(false));
            signature = sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Signature ready(boolean signing) {
        try {
            Signature s = CryptoProviders.signature("SHA256withECDSA");
            if (signing) {
                s.initSign(pair.getPrivate());
            } else {
                s.initVerify(pair.getPublic());
            }
            return s;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] sign() throws GeneralSecurityException {
        Signature s = signer.get();
        s.update(message);
        return s.sign();
    }

    boolean verify() throws GeneralSecurityException {
        Signature s = verifier.get();
        s.update(message);
        return s.verify(signature);
    }
}
