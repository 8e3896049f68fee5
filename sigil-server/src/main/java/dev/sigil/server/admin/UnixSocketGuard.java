package dev.sigil.server.admin;

import dev.sigil.core.SigilException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the admin socket's place on disk and locks it down. Security property: only the server's
 * user (and root) can connect, because the socket is mode 0600 (connecting needs write permission)
 * before it is published at its path, and a directory Sigil creates for it is 0700.
 */
final class UnixSocketGuard {
    private static final Logger LOG = LoggerFactory.getLogger(UnixSocketGuard.class);
    /**
     * sun_path is 108 bytes on Linux, including the terminating NUL; the socket is first bound at a
     * staging path ({@code .sigil-xxxxxxxx/s} next to it), which may be a few bytes longer.
     */
    static final int MAX_PATH_BYTES = 107;
    private static final int STAGING_EXTRA = ".sigil-xxxxxxxx/s".length();
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_SOCKET = PosixFilePermissions.fromString("rw-------");

    private UnixSocketGuard() {
    }

    /** Creates the parent directory (0700) and removes a stale socket; refuses a live or foreign file. */
    static void prepare(Path socket) {
        Path parent = socket.getParent();
        int length = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        int staging = parent.toString().getBytes(StandardCharsets.UTF_8).length + 1 + STAGING_EXTRA;
        if (Math.max(length, staging) > MAX_PATH_BYTES) {
            throw new SigilException("admin socket path " + socket + " is too long: unix sockets allow at most "
                    + MAX_PATH_BYTES + " bytes and sigil needs room for a staging name in its directory"
                    + " (choose a shorter admin.socket_path or data_dir)");
        }
        try {
            if (!Files.isDirectory(parent)) {
                Files.createDirectories(parent);
                Files.setPosixFilePermissions(parent, OWNER_DIR);
            } else if (!Files.getPosixFilePermissions(parent).equals(OWNER_DIR)) {
                LOG.warn("admin socket directory {} has permissions {}; 0700 is recommended", parent,
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(parent)));
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new SigilException("cannot create the admin socket directory " + parent + ": " + describe(e), e);
        }
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(socket)) {
            throw new SigilException("admin socket path " + socket
                    + " exists and is not a socket; remove it or choose another admin.socket_path");
        }
        if (answers(socket)) {
            throw new SigilException("another server is already listening on the admin socket " + socket
                    + "; stop it first, or give this server another data_dir or admin.socket_path");
        }
        try {
            Files.delete(socket);
            LOG.info("removed stale admin socket {} left by a previous server", socket);
        } catch (IOException e) {
            throw new SigilException("cannot remove the stale admin socket " + socket + ": " + describe(e), e);
        }
    }

    /** Restricts the freshly bound socket to its owner. */
    static void lockDown(Path socket) {
        try {
            Files.setPosixFilePermissions(socket, OWNER_SOCKET);
        } catch (IOException | UnsupportedOperationException e) {
            throw new SigilException("cannot restrict the admin socket " + socket + " to its owner: " + describe(e), e);
        }
    }

    private static boolean isSocket(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return mode instanceof Integer bits && (bits & S_IFMT) == S_IFSOCK;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** True when a server accepts connections; false when the kernel refuses (nobody listens: stale). */
    private static boolean answers(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (message.contains("refused")) {
                return false;
            }
            throw new SigilException("cannot tell whether a server is listening on the admin socket " + socket + ": "
                    + describe(e) + "; remove the file if no server uses it", e);
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
