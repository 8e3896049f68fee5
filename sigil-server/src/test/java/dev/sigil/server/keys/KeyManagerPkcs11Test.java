package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.plugin.PluginException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The PKCS#11 key manager against a real SoftHSM2 token, through its plugin: it passes the key manager
 * contract, and its keys are not extractable.
 */
class KeyManagerPkcs11Test extends KeyManagerContractTest {
    @Override
    protected KeyManager newKeyManager() throws Exception {
        KeyManager manager = new Pkcs11KeyManagerPlugin().create(new Pkcs11KeyManagerPlugin.Settings(SoftHsm.LIBRARY, 0, SoftHsm.token()),
                new KeyManagerPlugin.Context(Path.of("/nonexistent")));
        for (KeyHandle key : manager.list()) {
            manager.delete(key.id()); // one token per test JVM: start every test from an empty one
        }
        return manager;
    }

    @Test
    void privateKeysStayInTheTokenAndAreNotExtractable() throws Exception {
        keys.generate("ca-1", KeyType.EC_P256);
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS11",
                java.security.Security.getProvider("SunPKCS11").configure("--name=probe\nlibrary=" + SoftHsm.LIBRARY + "\nslotListIndex=0\n"));
        store.load(null, SoftHsm.PIN.toCharArray());
        java.security.Key key = store.getKey("ca-1", null);
        assertThat(key).isInstanceOf(java.security.PrivateKey.class);
        assertThat(key.getEncoded()).as("the token hands out no key material").isNull();
        assertThat(keys.describe()).contains("pkcs11").contains(SoftHsm.LIBRARY.toString());
    }

    @Test
    void aMissingPinOrModuleIsRefusedNamingTheSetting() throws Exception {
        assertThatThrownBy(() -> new Pkcs11KeyManagerPlugin().create(new Pkcs11KeyManagerPlugin.Settings(Path.of("/nonexistent/libx.so"), 0,
                SoftHsm.token()), new KeyManagerPlugin.Context(Path.of("/tmp"))))
                .isInstanceOf(PluginException.class).hasMessageContaining("key_manager.library /nonexistent/libx.so");
        assertThatThrownBy(() -> new Pkcs11KeyManagerPlugin().create(new Pkcs11KeyManagerPlugin.Settings(null, 0, null),
                new KeyManagerPlugin.Context(Path.of("/tmp"))))
                .isInstanceOf(PluginException.class).hasMessageContaining("key_manager.library is required");
    }
}
