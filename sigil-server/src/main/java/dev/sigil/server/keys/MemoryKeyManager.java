package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.security.KeyPair;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Keys in this process's memory only; they are gone when the process ends. */
final class MemoryKeyManager implements KeyManager {
    private final ConcurrentHashMap<String, SoftwareKey> keys = new ConcurrentHashMap<>();

    @Override
    public KeyHandle generate(String keyId, KeyType type) {
        KeyIds.validate(keyId);
        Objects.requireNonNull(type, "type");
        KeyPair pair = PrivateKeys.generate(type);
        SoftwareKey key = new SoftwareKey(keyId, type, pair.getPrivate(), pair.getPublic());
        keys.put(keyId, key);
        return key;
    }

    @Override
    public Optional<KeyHandle> find(String keyId) {
        return Optional.ofNullable(keys.get(KeyIds.validate(keyId)));
    }

    @Override
    public void delete(String keyId) {
        keys.remove(KeyIds.validate(keyId));
    }

    @Override
    public List<KeyHandle> list() {
        return keys.values().stream().sorted(Comparator.comparing(SoftwareKey::id)).map(KeyHandle.class::cast).toList();
    }

    @Override
    public String describe() {
        return "in-memory key manager (keys are lost when the server stops)";
    }

    @Override
    public String toString() {
        return "MemoryKeyManager[" + keys.size() + " keys]";
    }
}
