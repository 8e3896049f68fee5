package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.sigil.core.crypto.KeyType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyManagerDiskTest extends KeyManagerContractTest {
    @TempDir
    Path temp;

    Path directory() {
        return temp.resolve("keys");
    }

    @Override
    protected KeyManager newKeyManager() {
        return KeyManagers.disk(directory());
    }

    @Test
    void directoryIsOwnerOnlyAndKeyFilesAreOwnerReadWriteOnly() throws Exception {
        keys.generate("ca", KeyType.EC_P256);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory().resolve("ca.pem")))).isEqualTo("rw-------");
    }

    @Test
    void keyFileIsPkcs8Pem() throws Exception {
        keys.generate("ca", KeyType.EC_P384);

        assertThat(Files.readString(directory().resolve("ca.pem"))).startsWith("-----BEGIN PRIVATE KEY-----\n");
    }

    @Test
    void keysSurviveARestart() throws Exception {
        KeyHandle before = keys.generate("x509-ca", KeyType.EC_P256);
        keys.generate("jwt", KeyType.EC_P384);

        KeyManager restarted = KeyManagers.disk(directory());

        KeyHandle after = restarted.find("x509-ca").orElseThrow();
        assertThat(after.publicKey().getEncoded()).isEqualTo(before.publicKey().getEncoded());
        assertThat(verifiesWithJdk(KeyType.EC_P256, before.publicKey(), new byte[] {1, 2, 3}, after.sign(new byte[] {1, 2, 3}))).isTrue();
        assertThat(restarted.list()).extracting(KeyHandle::id, KeyHandle::type)
                .containsExactly(tuple("jwt", KeyType.EC_P384), tuple("x509-ca", KeyType.EC_P256));
    }

    @Test
    void rsaKeySurvivesARestart() throws Exception {
        KeyHandle before = keys.generate("rsa", KeyType.RSA_2048);

        KeyHandle after = KeyManagers.disk(directory()).find("rsa").orElseThrow();

        assertThat(after.type()).isEqualTo(KeyType.RSA_2048);
        assertThat(after.publicKey().getEncoded()).isEqualTo(before.publicKey().getEncoded());
    }

    @Test
    void corruptKeyFileIsAClearErrorNamingTheFile() throws Exception {
        keys.generate("broken", KeyType.EC_P256);
        Path file = directory().resolve("broken.pem");
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        assertThatThrownBy(() -> KeyManagers.disk(directory()).find("broken"))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void truncatedKeyFileIsAClearErrorNamingTheFile() throws Exception {
        keys.generate("cut", KeyType.EC_P256);
        Path file = directory().resolve("cut.pem");
        String pem = Files.readString(file);
        Files.writeString(file, pem.substring(0, pem.length() / 2));

        assertThatThrownBy(() -> KeyManagers.disk(directory()).find("cut"))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void keyFileReadableByOthersIsRefused() throws Exception {
        keys.generate("exposed", KeyType.EC_P256);
        Path file = directory().resolve("exposed.pem");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> KeyManagers.disk(directory()).find("exposed"))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("chmod 600");
    }

    @Test
    void looseDirectoryIsTightenedWhenOpened() throws Exception {
        Files.createDirectories(directory());
        Files.setPosixFilePermissions(directory(), PosixFilePermissions.fromString("rwxr-xr-x"));

        KeyManagers.disk(directory());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory()))).isEqualTo("rwx------");
    }

    @Test
    void replacingAKeyLeavesNoTemporaryFilesAndStaleOnesAreRemovedOnOpen() throws Exception {
        keys.generate("rotating", KeyType.EC_P256);
        keys.generate("rotating", KeyType.EC_P256);
        Files.writeString(directory().resolve(".rotating.pem.0123456789abcdef.tmp"), "half a key", StandardCharsets.US_ASCII);

        KeyManagers.disk(directory());

        try (Stream<Path> files = Files.list(directory())) {
            assertThat(files.map(path -> path.getFileName().toString())).containsExactly("rotating.pem");
        }
    }

    @Test
    void describesItsDirectory() {
        assertThat(keys.describe()).isEqualTo("disk key manager at " + directory().toAbsolutePath());
    }
}
