package dev.sigil.server.keys;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.crypto.KeyType;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Objects;

/**
 * A private key held in this process's memory, signing through {@link CryptoProviders} (the native
 * provider when loaded) with pooled {@link SignaturePool signatures}. The key has no accessor; it is
 * reachable only by {@link #sign}.
 */
final class SoftwareKey implements KeyHandle {
    private final String id;
    private final KeyType type;
    private final PublicKey publicKey;
    private final SignaturePool signatures;

    SoftwareKey(String id, KeyType type, PrivateKey privateKey, PublicKey publicKey) {
        this.id = Objects.requireNonNull(id, "id");
        this.type = Objects.requireNonNull(type, "type");
        Objects.requireNonNull(privateKey, "privateKey");
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
        this.signatures = new SignaturePool(id, type, privateKey, CryptoProviders::signature, "");
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
        return signatures.sign(data);
    }

    @Override
    public String toString() {
        return "KeyHandle[id=" + id + ", type=" + type.configName() + "]";
    }
}
