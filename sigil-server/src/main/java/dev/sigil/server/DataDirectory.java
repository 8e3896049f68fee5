package dev.sigil.server;

import dev.sigil.core.SigilException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The server's data directory: datastore file, keys and admin socket live under it. Created owner-only
 * (0700); an existing directory that others can enter is tightened to 0700 with a warning-free fix,
 * since everything below it is the server's secret or authority.
 */
final class DataDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private DataDirectory() {
    }

    static void prepare(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            }
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            if (!Files.isWritable(dir)) {
                throw new SigilException("data directory " + dir + " is not writable by this user");
            }
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new SigilException("cannot use data directory " + dir + ": " + e.getFile() + " exists and is not a directory", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new SigilException("cannot use data directory " + dir + ": permission denied on " + e.getFile(), e);
        } catch (java.nio.file.NotDirectoryException e) {
            throw new SigilException("cannot use data directory " + dir + ": " + e.getFile() + " is not a directory", e);
        } catch (FileSystemException e) {
            throw new SigilException("cannot use data directory " + dir + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName().replace("Exception", "").toLowerCase())
                    + (e.getFile() != null ? " (" + e.getFile() + ")" : ""), e);
        } catch (IOException e) {
            throw new SigilException("cannot use data directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * This server's stable id among the servers sharing a datastore: read from {@code <dir>/server-id},
     * created there (random, owner-only) at the first start. It names the authorities this server
     * creates, so it must survive restarts; a copied data directory must get a new one (delete the file).
     */
    static String serverId(Path dir) {
        Path file = dir.resolve("server-id");
        try {
            if (!Files.exists(file)) {
                byte[] random = new byte[8];
                new java.security.SecureRandom().nextBytes(random);
                Path tmp = dir.resolve("server-id.tmp");
                Files.writeString(tmp, "server-" + java.util.HexFormat.of().formatHex(random) + "\n");
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            String id = Files.readString(file).strip();
            if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
                throw new SigilException("server id file " + file + " must hold 1 to 128 characters of letters, digits, '.', '_' and '-';"
                        + " delete it to get a new id");
            }
            return id;
        } catch (IOException e) {
            throw new SigilException("cannot read or create the server id file " + file + ": " + e.getMessage(), e);
        }
    }
}
