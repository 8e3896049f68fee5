package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.util.List;
import java.util.Optional;

/**
 * Creates and holds the server's private keys (CA and JWT signing keys) and hands out
 * {@link KeyHandle}s that sign with them. Private key material never leaves an implementation: there
 * is no way to obtain a {@link java.security.PrivateKey} through this interface.
 *
 * <p>Key ids are 1 to 128 characters of {@code A-Z a-z 0-9 . _ -}, starting with a letter or digit.
 * Implementations are thread-safe. Every implementation passes {@code KeyManagerContractTest}.
 */
public interface KeyManager {
    /**
     * Generates a new key pair of {@code type} under {@code keyId}, replacing any key with that id.
     * When this returns, the key is stored as durably as the implementation allows.
     *
     * @throws IllegalArgumentException when {@code keyId} is not a valid key id
     * @throws KeyManagerException      when the key cannot be created or stored
     */
    KeyHandle generate(String keyId, KeyType type);

    /**
     * The key stored under {@code keyId}; empty when there is none.
     *
     * @throws KeyManagerException when a key exists but cannot be read (the message names where it is)
     */
    Optional<KeyHandle> find(String keyId);

    /** Removes the key stored under {@code keyId}; does nothing when there is none. */
    void delete(String keyId);

    /** Every stored key, ordered by id. */
    List<KeyHandle> list();

    /** Where keys live, for operators reading an error message, e.g. {@code disk key manager at /var/lib/sigil/keys}. */
    String describe();
}
