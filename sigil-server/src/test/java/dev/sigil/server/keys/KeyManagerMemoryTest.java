package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.crypto.KeyType;
import org.junit.jupiter.api.Test;

class KeyManagerMemoryTest extends KeyManagerContractTest {
    @Override
    protected KeyManager newKeyManager() {
        return KeyManagers.memory();
    }

    @Test
    void describesItselfAsVolatile() {
        keys.generate("k", KeyType.EC_P256);

        assertThat(keys.describe()).contains("in-memory").contains("lost");
    }
}
