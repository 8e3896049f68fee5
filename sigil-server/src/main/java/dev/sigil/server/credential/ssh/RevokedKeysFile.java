package dev.sigil.server.credential.ssh;

import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.LeaseId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * sshd's {@code RevokedKeys} file in its text form: one public key per line. sshd refuses a
 * certificate whose certified key is listed, so listing a lease's workload key ends that lease's
 * certificate at once on every host that reads the file.
 *
 * <p>Lines Sigil writes are {@code <type> <base64> sigil-lease=<lease id> expires=<epoch seconds>}
 * (sshd ignores the comment); {@code expires} is the certificate's valid-before, after which the line
 * is pruned since the certificate is dead anyway. Every other line (an operator's own revocations,
 * comments) is kept verbatim and never pruned.
 *
 * <p>Guarantees: the file is replaced atomically (temporary file in the same directory, fsync,
 * rename) with mode 0644, so sshd never reads a partial file; it always exists once this object is
 * built, because sshd refuses every public key when its {@code RevokedKeys} file is missing.
 * Writes are serialised within this process; one Sigil server must own the file.
 */
final class RevokedKeysFile {
    private static final Pattern SIGIL_LINE = Pattern.compile(
            "(\\S+ \\S+) sigil-lease=([a-z2-7]{" + LeaseId.LENGTH + "}) expires=(\\d{1,19})");

    private final Path file;
    private final Clock clock;

    private RevokedKeysFile(Path file, Clock clock) {
        this.file = file;
        this.clock = clock;
    }

    /** Opens {@code file}, creating it empty when missing and pruning expired lines. */
    static RevokedKeysFile open(Path file, Clock clock) {
        RevokedKeysFile revoked = new RevokedKeysFile(Objects.requireNonNull(file, "file"), clock);
        revoked.update(null);
        return revoked;
    }

    /** Lists the lease's key until {@code expires}; does nothing when the lease is already listed. */
    synchronized void revoke(SshPublicKey key, LeaseId lease, Instant expires) {
        update(new Entry(key.line(), lease.value(), expires.getEpochSecond()));
    }

    /** Whether an unexpired line revokes {@code key}. */
    synchronized boolean isRevoked(SshPublicKey key) {
        String line = key.line();
        long now = clock.instant().getEpochSecond();
        for (String text : read()) {
            Matcher m = SIGIL_LINE.matcher(text);
            boolean sigilLive = m.matches() && Long.parseLong(m.group(3)) > now && m.group(1).equals(line);
            String[] parts = text.strip().split("\\s+");
            boolean operatorLine = !m.matches() && parts.length >= 2 && (parts[0] + " " + parts[1]).equals(line);
            if (sigilLive || operatorLine) {
                return true;
            }
        }
        return false;
    }

    private synchronized void update(Entry added) {
        List<String> lines = read();
        long now = clock.instant().getEpochSecond();
        List<String> kept = new ArrayList<>();
        boolean present = false;
        for (String text : lines) {
            Matcher m = SIGIL_LINE.matcher(text);
            if (m.matches() && Long.parseLong(m.group(3)) <= now) {
                continue;
            }
            present |= added != null && m.matches() && m.group(2).equals(added.lease());
            kept.add(text);
        }
        if (added != null && !present) {
            kept.add(added.toString());
        }
        if (kept.equals(lines) && Files.exists(file)) {
            return;
        }
        write(kept);
    }

    private List<String> read() {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new BrokerException.Unavailable("cannot read the ssh revoked keys file " + file + ": " + e.getMessage(), e);
        }
    }

    private void write(List<String> lines) {
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = null;
        try {
            temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
            StringBuilder text = new StringBuilder();
            lines.forEach(line -> text.append(line).append('\n'));
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temporary = null;
        } catch (IOException | UnsupportedOperationException e) {
            throw new BrokerException.Unavailable("cannot write the ssh revoked keys file " + file + ": " + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // best effort: a stray temporary file is harmless to sshd
                }
            }
        }
    }

    Path path() {
        return file;
    }

    private record Entry(String keyLine, String lease, long expires) {
        @Override
        public String toString() {
            return keyLine + " sigil-lease=" + lease + " expires=" + expires;
        }
    }
}
