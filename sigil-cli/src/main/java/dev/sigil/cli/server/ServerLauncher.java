package dev.sigil.cli.server;

import dev.sigil.server.config.ServerConfig;

/**
 * Starts a server from its resolved configuration: the seam between {@code sigil server run} and the
 * server's composition root. Implementations open the datastore, load keys, start the admin transport
 * and the bundle endpoint, and return once everything listens; a failure to start throws a
 * {@link dev.sigil.core.SigilException} with a message for the operator (and leaves nothing running).
 */
@FunctionalInterface
public interface ServerLauncher {
    RunningServer launch(ServerConfig config);
}
