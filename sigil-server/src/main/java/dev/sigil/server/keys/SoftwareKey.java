package dev.sigil.server.keys;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.crypto.KeyType;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A private key held in this process's memory, signing through {@link CryptoProviders} (the native
 * provider when loaded). The key has no accessor; it is reachable only by {@link #sign}.
 *
 * <p>Initialised {@link Signature} objects are pooled so that the hot path (one signature per minted
 * SVID) does not repeat provider lookup and key import; the pool holds at most as many objects as
 * threads that signed at the same time.
 */
final class SoftwareKey implements KeyHandle {
    private final String id;
    private final KeyType type;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final ConcurrentLinkedQueue<Signature> idle = new ConcurrentLinkedQueue<>();

    SoftwareKey(String id, KeyType type, PrivateKey privateKey, PublicKey publicKey) {
        this.id = Objects.requireNonNull(id, "id");
        this.type = Objects.requireNonNull(type, "type");
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public KeyType type() {
        return type;
    }

    @Override
    public PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public byte[] sign(byte[] data) {
        Signature signature = idle.poll();
        try {
            if (signature == null) {
                signature = CryptoProviders.signature(type.signatureAlgorithm());
                signature.initSign(privateKey);
            }
            signature.update(data);
            byte[] result = signature.sign();
            idle.offer(signature);
            return result;
        } catch (GeneralSecurityException | RuntimeException e) {
            // a Signature in an unknown state is dropped, never returned to the pool
            throw new KeyManagerException("signing with key '" + id + "' (" + type.configName() + ") failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "KeyHandle[id=" + id + ", type=" + type.configName() + "]";
    }
}
