package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretHasherTest {
    @TempDir
    Path dataDir;

    @Test
    void keyedHashIsStableAcrossRestarts() {
        Path keys = dataDir.resolve("keys");
        String first = SecretHasher.loadOrCreate(keys).keyedHash("eyJ.token.sig");

        String afterRestart = SecretHasher.loadOrCreate(keys).keyedHash("eyJ.token.sig");

        assertThat(afterRestart).isEqualTo(first);
        assertThat(first).matches("k[0-9a-f]{8}:[0-9a-f]{64}");
    }

    @Test
    void concurrentCallersEachGetTheHmacOfTheirOwnSecret() throws Exception {
        SecretHasher hasher = SecretHasher.loadOrCreate(dataDir.resolve("keys"));
        javax.crypto.Mac reference = javax.crypto.Mac.getInstance("HmacSHA256");
        reference.init(new javax.crypto.spec.SecretKeySpec(Files.readAllBytes(dataDir.resolve("keys").resolve(SecretHasher.FILE_NAME)),
                "HmacSHA256"));
        java.util.List<String> secrets = java.util.stream.IntStream.range(0, 2_000).mapToObj(i -> "secret-" + i).toList();

        java.util.List<String> hashed = secrets.parallelStream().map(hasher::keyedHash).toList();

        for (int i = 0; i < secrets.size(); i++) {
            String expected = hasher.keyId() + ":" + HexFormat.of().formatHex(reference.doFinal(secrets.get(i).getBytes(StandardCharsets.UTF_8)));
            assertThat(hashed.get(i)).isEqualTo(expected);
        }
    }

    @Test
    void keyedHashDiffersFromPlainSha256AndBetweenServers() throws Exception {
        SecretHasher hasher = SecretHasher.loadOrCreate(dataDir.resolve("a"));
        String plain = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("secret".getBytes(StandardCharsets.UTF_8)));

        String keyed = hasher.keyedHash("secret");

        assertThat(keyed).doesNotContain(plain);
        assertThat(SecretHasher.loadOrCreate(dataDir.resolve("b")).keyedHash("secret")).isNotEqualTo(keyed);
        assertThat(hasher.keyedHash("other")).isNotEqualTo(keyed);
    }

    @Test
    void keyFileIsOwnerOnlyAndNeverPrinted() throws Exception {
        SecretHasher hasher = SecretHasher.loadOrCreate(dataDir.resolve("keys"));
        Path file = dataDir.resolve("keys").resolve(SecretHasher.FILE_NAME);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.size(file)).isEqualTo(32);
        assertThat(hasher.toString()).isEqualTo("SecretHasher[keyId=" + hasher.keyId() + "]");
    }

    @Test
    void truncatedKeyFileIsRefused() throws Exception {
        Path keys = Files.createDirectories(dataDir.resolve("keys"));
        Files.write(keys.resolve(SecretHasher.FILE_NAME), new byte[] {1, 2, 3});

        assertThatThrownBy(() -> SecretHasher.loadOrCreate(keys)).hasMessageContaining("holds 3 bytes; expected 32");
    }
}
