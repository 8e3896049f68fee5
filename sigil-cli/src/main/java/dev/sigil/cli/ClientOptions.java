package dev.sigil.cli;

import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigException;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Options every client command shares. The admin socket is resolved exactly as the server resolves
 * it: {@code --socket}, then SIGIL_ADMIN_SOCKET, then {@code admin.socket_path} from {@code --config},
 * then {@code <data_dir>/admin/admin.sock} with the data directory from {@code --data-dir},
 * SIGIL_DATA_DIR, the config file or the default.
 */
public final class ClientOptions {
    @Option(names = "--socket", paramLabel = "PATH", description = "Admin API socket of the server (default: <data-dir>/admin/admin.sock).")
    Path socket;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "The server's data directory, used to find its admin socket.")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "The server's configuration file, to read data_dir and admin.socket_path from.")
    Path config;

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    OutputFormat output = OutputFormat.text;

    public OutputFormat output() {
        return output;
    }

    public Path socketPath(ConfigEnvironment environment) {
        ConfigOverrides flags = ConfigOverrides.none();
        if (dataDir != null) {
            flags = flags.withDataDir(dataDir);
        }
        if (socket != null) {
            flags = flags.withAdminSocket(socket);
        }
        try {
            return ServerConfigLoader.adminSocket(Optional.ofNullable(config), environment, flags);
        } catch (ConfigException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
    }

    /** A client for the resolved admin socket. */
    public AdminClient connect(ConfigEnvironment environment) {
        return new AdminClient(socketPath(environment));
    }
}
