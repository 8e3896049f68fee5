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
}
