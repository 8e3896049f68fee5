package dev.sigil.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes files the way SVID material must be written: the content goes into an owner-only (0600)
 * temporary sibling, which gets its final permissions and then replaces the target atomically, so no
 * reader ever sees a partial file and a private key is never readable by others, not even briefly.
 */
final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Replaces {@code target} with {@code content} (US-ASCII, as PEM is), ending with {@code permissions} ("rw-r--r--"). */
    static void replace(Path target, String content, String permissions) throws IOException {
        Path temporary = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temporary, content, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(permissions));
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
