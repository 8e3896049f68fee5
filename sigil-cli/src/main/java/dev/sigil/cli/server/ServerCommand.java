package dev.sigil.cli.server;

import dev.sigil.cli.CliContext;
import dev.sigil.cli.CliException;
import dev.sigil.core.SigilException;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sigil server run}: loads the configuration, starts the server, runs until stopped. */
@Command(name = "server", description = "Runs the Sigil server.", subcommands = ServerCommand.Run.class)
public final class ServerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing subcommand; choose one of: run");
    }

    @Command(name = "run", description = "Starts the server in the foreground; stops on SIGTERM or SIGINT.")
    public static final class Run implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (see docs/configuration.md).")
        Path config;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (overrides SIGIL_DATA_DIR and data_dir).")
        Path dataDir;

        @Option(names = "--trust-domain", paramLabel = "NAME", description = "Trust domain (overrides SIGIL_TRUST_DOMAIN and trust_domain).")
        String trustDomain;

        @Option(names = "--log-level", paramLabel = "LEVEL", description = "trace, debug, info, warn or error (overrides SIGIL_LOG_LEVEL and log_level).")
        String logLevel;

        @Option(names = "--socket", paramLabel = "PATH", description = "Admin API socket (overrides SIGIL_ADMIN_SOCKET and admin.socket_path).")
        Path socket;

        private final CliContext context;

        public Run(CliContext context) {
            this.context = context;
        }

        @Override
        public Integer call() throws InterruptedException {
            ServerConfig serverConfig = loadConfig();
            Logging.apply(serverConfig.logLevel());
            RunningServer server;
            try {
                server = context.launcher().launch(serverConfig);
            } catch (SigilException e) {
                throw new CliException(e.getMessage(), 1, e);
            }
            context.err().println("sigil: server running for trust domain " + serverConfig.trustDomain()
                    + "; admin socket " + serverConfig.admin().socketPath());
            context.err().flush();
            AtomicBoolean stopped = new AtomicBoolean();
            context.stopSignal().awaitStop(() -> {
                if (stopped.compareAndSet(false, true)) {
                    server.close();
                }
            });
            return 0;
        }

        ServerConfig loadConfig() {
            ConfigOverrides flags = new ConfigOverrides(Optional.ofNullable(dataDir), Optional.ofNullable(trustDomain),
                    Optional.ofNullable(logLevel), Optional.ofNullable(socket), Optional.empty());
            try {
                return ServerConfigLoader.load(Optional.ofNullable(config), context.environment(), flags);
            } catch (SigilException e) {
                throw new CliException(e.getMessage(), 1, e);
            }
        }
    }
}
