package dev.sigil.cli.server;

import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ServerConfig;

/** Starts the full server (authority, datastore, registration, admin API, bundle endpoint). */
public final class SigilServerLauncher implements ServerLauncher {
    @Override
    public RunningServer launch(ServerConfig config) {
        SigilServer server = SigilServer.start(config);
        return server::close;
    }
}
