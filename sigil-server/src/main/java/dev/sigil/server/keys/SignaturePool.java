package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Initialised {@link Signature} objects for one private key, pooled so that the hot path (one signature per
 * minted SVID or token) does not repeat provider lookup and key initialisation. The pool holds at most as
 * many objects as threads that signed at the same time; a {@link Signature} that failed is dropped, never
 * returned to the pool.
 */
final class SignaturePool {
    /** Makes an uninitialised {@link Signature} for the key type's algorithm. */
    @FunctionalInterface
    interface Factory {
        Signature create(String algorithm) throws GeneralSecurityException;
    }

    private final String keyId;
    private final KeyType type;
    private final PrivateKey key;
    private final Factory factory;
    private final String where;
    private final ConcurrentLinkedQueue<Signature> idle = new ConcurrentLinkedQueue<>();

    /** @param where how a failure names the key's home ("" or " in the pkcs11 token") */
    SignaturePool(String keyId, KeyType type, PrivateKey key, Factory factory, String where) {
        this.keyId = keyId;
        this.type = type;
        this.key = key;
        this.factory = factory;
        this.where = where;
    }

    byte[] sign(byte[] data) {
        Signature signature = idle.poll();
        try {
            if (signature == null) {
                signature = factory.create(type.signatureAlgorithm());
                signature.initSign(key);
            }
            signature.update(data);
            byte[] result = signature.sign();
            idle.offer(signature);
            return result;
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new KeyManagerException("signing with key '" + keyId + "' (" + type.configName() + ")" + where + " failed: "
                    + dev.sigil.core.Printable.reason(e), e);
        }
    }
}
