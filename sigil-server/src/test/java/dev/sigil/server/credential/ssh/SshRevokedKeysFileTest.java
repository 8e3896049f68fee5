package dev.sigil.server.credential.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.credential.LeaseId;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshRevokedKeysFileTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    @TempDir
    Path directory;
    private final MutableClock clock = MutableClock.at(NOW);

    @Test
    void missingFileIsCreatedEmptyAndWorldReadable() throws Exception {
        Path file = directory.resolve("revoked_keys");

        RevokedKeysFile.open(file, clock);

        assertThat(file).exists().isEmptyFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
    }

    @Test
    void revokingALeaseTwiceListsItsKeyOnce() throws Exception {
        Path file = directory.resolve("revoked_keys");
        RevokedKeysFile revoked = RevokedKeysFile.open(file, clock);
        SshPublicKey key = SshPublicKey.parse(TestKeys.ed25519());
        LeaseId lease = LeaseId.random();

        revoked.revoke(key, lease, NOW.plusSeconds(600));
        revoked.revoke(key, lease, NOW.plusSeconds(600));

        assertThat(Files.readAllLines(file)).containsExactly(key.line() + " sigil-lease=" + lease + " expires="
                + NOW.plusSeconds(600).getEpochSecond());
        assertThat(revoked.isRevoked(key)).isTrue();
        assertThat(revoked.isRevoked(SshPublicKey.parse(TestKeys.ed25519()))).isFalse();
        assertThat(directory).isDirectoryNotContaining("glob:**.tmp");
    }

    @Test
    void expiredEntriesArePrunedAndOperatorLinesKept() throws Exception {
        Path file = directory.resolve("revoked_keys");
        SshPublicKey operatorKey = SshPublicKey.parse(TestKeys.ed25519());
        Files.writeString(file, "# revoked by hand\n" + operatorKey.line() + " lost laptop\n");
        RevokedKeysFile revoked = RevokedKeysFile.open(file, clock);
        SshPublicKey shortLived = SshPublicKey.parse(TestKeys.ed25519());
        SshPublicKey longLived = SshPublicKey.parse(TestKeys.ecdsa(TestKeys.p256Point()));
        revoked.revoke(shortLived, LeaseId.random(), NOW.plusSeconds(60));
        revoked.revoke(longLived, LeaseId.random(), NOW.plusSeconds(3600));

        clock.advance(Duration.ofMinutes(2));
        assertThat(revoked.isRevoked(shortLived)).as("expired entry no longer counts").isFalse();
        revoked.revoke(SshPublicKey.parse(TestKeys.ed25519()), LeaseId.random(), NOW.plusSeconds(600));

        String text = Files.readString(file);
        assertThat(text).startsWith("# revoked by hand\n" + operatorKey.line() + " lost laptop\n")
                .doesNotContain(shortLived.line()).contains(longLived.line());
        assertThat(revoked.isRevoked(operatorKey)).isTrue();
    }

    @Test
    void reopeningPrunesExpiredEntries() throws Exception {
        Path file = directory.resolve("revoked_keys");
        SshPublicKey key = SshPublicKey.parse(TestKeys.ed25519());
        RevokedKeysFile.open(file, clock).revoke(key, LeaseId.random(), NOW.plusSeconds(60));

        clock.advance(Duration.ofMinutes(5));
        RevokedKeysFile.open(file, clock);

        assertThat(file).isEmptyFile();
    }
}
