package dev.sigil.server.admin;

import dev.sigil.core.SigilException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;

/**
 * A Unix socket connector whose socket is never reachable by anyone but its owner, not even for the
 * moment between bind and chmod: it binds inside a fresh 0700 staging directory next to the final
 * path, restricts the socket to 0600, and only then renames it into place (same directory, so the
 * rename is atomic and the listening socket keeps working). On stop it removes the published file.
 */
final class OwnerOnlyUnixConnector extends UnixDomainServerConnector {
    private final Path published;
    private final Path stagingDir;

    OwnerOnlyUnixConnector(Server server, Path published, ConnectionFactory... factories) {
        super(server, 1, 1, factories);
        this.published = published;
        byte[] random = new byte[4];
        new SecureRandom().nextBytes(random);
        this.stagingDir = published.resolveSibling(".sigil-" + HexFormat.of().formatHex(random));
        setUnixDomainPath(stagingDir.resolve("s"));
    }

    Path published() {
        return published;
    }

    @Override
    protected void doStart() throws Exception {
        Files.createDirectory(stagingDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            super.doStart();
            UnixSocketGuard.lockDown(getUnixDomainPath());
            Files.move(getUnixDomainPath(), published, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SigilException("cannot publish the admin socket at " + published + ": " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(getUnixDomainPath());
            Files.deleteIfExists(stagingDir);
        }
    }

    @Override
    protected void doStop() throws Exception {
        try {
            super.doStop();
        } finally {
            Files.deleteIfExists(published);
        }
    }
}
