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
@Command(name = "server", description = "Runs the Sigil server, or checks its configuration.",
        subcommands = {ServerCommand.Run.class, ServerCommand.Validate.class})
public final class ServerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing subcommand; choose one of: run, validate");
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

        @Option(names = "--bundle-port", paramLabel = "PORT",
                description = "Port of the bundle endpoint (overrides SIGIL_BUNDLE_PORT and bundle_endpoint.port; 0 picks a free one).")
        Integer bundlePort;

        @Option(names = "--agent-api-port", paramLabel = "PORT",
                description = "Port of the agent API (overrides SIGIL_AGENT_API_PORT and agent_api.port; 0 picks a free one).")
        Integer agentApiPort;

        @Option(names = "--token-port", paramLabel = "PORT",
                description = "Port of the token service (overrides SIGIL_TOKEN_PORT and token_endpoint.port; 0 picks a free one).")
        Integer tokenPort;

        private final CliContext context;

        public Run(CliContext context) {
            this.context = context;
        }

        @Override
        public Integer call() throws InterruptedException {
            ServerConfig serverConfig = loadConfig();
            Logging.apply(serverConfig.logLevel());
            Logging.format(serverConfig.logFormat());
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
                    Optional.ofNullable(logLevel), Optional.ofNullable(socket), Optional.ofNullable(bundlePort));
            return load(context, config, flags, java.util.Map.of(ServerConfigLoader.SIGIL_AGENT_API_PORT, Optional.ofNullable(agentApiPort),
                    ServerConfigLoader.SIGIL_TOKEN_PORT, Optional.ofNullable(tokenPort)));
        }
    }

    /** Loads the configuration; {@code ports} (a flag per variable) win over the environment and the file. */
    static ServerConfig load(CliContext context, Path config, ConfigOverrides flags, java.util.Map<String, Optional<Integer>> ports) {
        java.util.Map<String, String> variables = new java.util.HashMap<>(context.environment().variables());
        ports.forEach((name, port) -> port.ifPresent(value -> variables.put(name, Integer.toString(value))));
        dev.sigil.server.config.ConfigEnvironment environment = new dev.sigil.server.config.ConfigEnvironment(variables,
                context.environment().userHome(), context.environment().root());
        try {
            return ServerConfigLoader.load(Optional.ofNullable(config), environment, flags);
        } catch (SigilException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
    }

    /**
     * {@code sigil server validate}: parses and validates the configuration and every plugin's settings
     * as {@code server run} would, without opening the datastore, binding a port or touching the data
     * directory. Exit 0 with {@code config OK}, or 1 with the loader's one-line error naming the key.
     */
    @Command(name = "validate", description = "Checks a server configuration (and the environment's overrides) without starting "
            + "anything; prints 'config OK' or the first problem, naming the key.")
    public static final class Validate implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (see docs/configuration.md).")
        Path config;

        private final CliContext context;

        public Validate(CliContext context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            ServerConfig loaded = load(context, config, ConfigOverrides.none(), java.util.Map.of());
            context.out().println("config OK" + (config == null ? " (no file: defaults and environment)" : ": " + config)
                    + "; trust domain " + loaded.trustDomain() + ", data directory " + loaded.dataDir());
            context.out().flush();
            return 0;
        }
    }
}
