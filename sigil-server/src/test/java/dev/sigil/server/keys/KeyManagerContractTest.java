package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.crypto.KeyType;
import java.io.Serializable;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The behaviour every {@link KeyManager} must have. Each implementation's test extends this class. */
abstract class KeyManagerContractTest {
    private static final byte[] DATA = "to be signed".getBytes(StandardCharsets.UTF_8);

    protected KeyManager keys;

    /** A fresh, empty key manager. */
    protected abstract KeyManager newKeyManager() throws Exception;

    @BeforeEach
    void createKeyManager() throws Exception {
        keys = newKeyManager();
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void generatedKeySignsWhatItsPublicKeyVerifies(KeyType type) throws Exception {
        KeyHandle key = keys.generate("key-" + type.configName(), type);

        byte[] signature = key.sign(DATA);

        assertThat(key.type()).isEqualTo(type);
        assertThat(key.publicKey().getAlgorithm()).isEqualTo(type.jcaKeyAlgorithm());
        assertThat(verifiesWithJdk(type, key.publicKey(), DATA, signature)).isTrue();
        assertThat(verifiesWithJdk(type, key.publicKey(), "tampered".getBytes(StandardCharsets.UTF_8), signature)).isFalse();
    }

    @Test
    void generatedKeyIsFoundByIdAndSignsTheSame() throws Exception {
        KeyHandle generated = keys.generate("ca-1", KeyType.EC_P256);

        KeyHandle found = keys.find("ca-1").orElseThrow();

        assertThat(found.id()).isEqualTo("ca-1");
        assertThat(found.type()).isEqualTo(KeyType.EC_P256);
        assertThat(found.publicKey().getEncoded()).isEqualTo(generated.publicKey().getEncoded());
        assertThat(verifiesWithJdk(KeyType.EC_P256, generated.publicKey(), DATA, found.sign(DATA))).isTrue();
    }

    @Test
    void unknownKeyIsNotFound() {
        assertThat(keys.find("never-generated")).isEmpty();
    }

    @Test
    void generatingUnderAnExistingIdReplacesTheKey() throws Exception {
        KeyHandle first = keys.generate("jwt-1", KeyType.EC_P256);

        KeyHandle second = keys.generate("jwt-1", KeyType.EC_P384);

        KeyHandle found = keys.find("jwt-1").orElseThrow();
        assertThat(found.type()).isEqualTo(KeyType.EC_P384);
        assertThat(found.publicKey().getEncoded()).isEqualTo(second.publicKey().getEncoded())
                .isNotEqualTo(first.publicKey().getEncoded());
        assertThat(verifiesWithJdk(KeyType.EC_P384, second.publicKey(), DATA, found.sign(DATA))).isTrue();
        assertThat(keys.list()).extracting(KeyHandle::id).containsExactly("jwt-1");
    }

    @Test
    void deletedKeyIsGoneAndDeletingAgainIsHarmless() {
        keys.generate("old", KeyType.EC_P256);

        keys.delete("old");
        keys.delete("old");

        assertThat(keys.find("old")).isEmpty();
        assertThat(keys.list()).isEmpty();
    }

    @Test
    void listHoldsEveryKeyOrderedById() {
        keys.generate("b", KeyType.EC_P256);
        keys.generate("a", KeyType.EC_P384);
        keys.generate("c", KeyType.EC_P256);
        keys.delete("c");

        assertThat(keys.list()).extracting(KeyHandle::id).containsExactly("a", "b");
        assertThat(keys.list()).extracting(KeyHandle::type).containsExactly(KeyType.EC_P384, KeyType.EC_P256);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "../escape", "a/b", ".hidden", "with space", "semi;colon"})
    void invalidKeyIdIsRefusedWithTheIdInTheMessage(String keyId) {
        assertThatThrownBy(() -> keys.generate(keyId, KeyType.EC_P256))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key id '" + keyId + "' is invalid");
        assertThatThrownBy(() -> keys.find(keyId)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void handleOffersNoWayToObtainThePrivateKey() {
        KeyHandle key = keys.generate("sealed", KeyType.EC_P256);

        for (Method method : key.getClass().getMethods()) {
            assertThat(PrivateKey.class.isAssignableFrom(method.getReturnType()))
                    .as("method %s returns a private key", method).isFalse();
            assertThat(KeyPair.class.isAssignableFrom(method.getReturnType()))
                    .as("method %s returns a key pair", method).isFalse();
        }
        assertThat(key).isNotInstanceOf(Serializable.class);
    }

    @Test
    void toStringNamesTheKeyAndHoldsNoKeyMaterial() {
        KeyHandle key = keys.generate("printable", KeyType.EC_P256);

        assertThat(key.toString()).contains("printable").contains("ec-p256").doesNotContainIgnoringCase("private").hasSizeLessThan(120);
        assertThat(keys.toString()).doesNotContain("BEGIN").hasSizeLessThan(200);
    }

    @Test
    void oneKeySignsFromManyThreadsAtOnce() throws Exception {
        KeyHandle key = keys.generate("busy", KeyType.EC_P256);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                byte[] data = ("message " + i).getBytes(StandardCharsets.UTF_8);
                results.add(pool.submit(() -> verifiesWithJdk(KeyType.EC_P256, key.publicKey(), data, key.sign(data))));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Verifies with the JDK's own provider, so a signature is checked by code other than the one that made it. */
    static boolean verifiesWithJdk(KeyType type, PublicKey key, byte[] data, byte[] signature) throws Exception {
        Signature verifier = Signature.getInstance(type.signatureAlgorithm());
        verifier.initVerify(java.security.KeyFactory.getInstance(type.jcaKeyAlgorithm())
                .generatePublic(new java.security.spec.X509EncodedKeySpec(key.getEncoded())));
        verifier.update(data);
        return verifier.verify(signature);
    }
}
