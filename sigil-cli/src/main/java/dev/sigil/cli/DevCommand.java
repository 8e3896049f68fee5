package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.SigilException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil dev}: a server and an agent on this machine in one process, for trying Sigil — the
 * equivalent of {@code vault server -dev}. Everything lives under one directory (a new temporary one
 * unless {@code --data-dir} is given); the agent attests with a join token and the current user's uid
 * is registered as a workload, so the Workload API answers right away. Not for production: the trust
 * domain is a development one and the server listens only on loopback.
 */
@Command(name = "dev", description = "Starts a development server and agent on this machine, registers the current user "
        + "as a workload, and prints what to run next; Ctrl-C stops both.")
final class DevCommand implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Keep everything under DIR (default: a new temporary directory).")
    Path dataDir;

    @Option(names = "--trust-domain", paramLabel = "NAME", defaultValue = "sigil.test", description = "Trust domain (default: ${DEFAULT-VALUE}).")
    String trustDomain;

    @Option(names = "--bundle-port", paramLabel = "PORT", defaultValue = "8443",
            description = "Port of the HTTPS bundle endpoint and OIDC discovery (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int bundlePort;

    @Option(names = "--agent-api-port", paramLabel = "PORT", defaultValue = "8081",
            description = "Port of the server's agent API (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int agentApiPort;

    @Option(names = "--token-port", paramLabel = "PORT", defaultValue = "8444",
            description = "Port of the HTTPS token service (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int tokenPort;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "warn", description = "Log level (default: ${DEFAULT-VALUE}).")
    String logLevel;

    private final CliContext context;

    DevCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Logging.apply(logLevel);
        Path root = prepareRoot();
        Path serverDir = root.resolve("server");
        Path agentDir = root.resolve("agent");
        Path publicDir = root.resolve("public");
        Files.createDirectories(publicDir);
        Files.setPosixFilePermissions(publicDir, PosixFilePermissions.fromString("rwxr-xr-x"));

        SigilServer server = startServer(serverDir);
        AgentRuntime agent;
        SpiffeId workloadId;
        try {
            SpiffeId.parse("spiffe://" + trustDomain);
            String[] token = new String[2];
            try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
                JsonNode issued = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
                token[0] = issued.path("token").asText();
                token[1] = issued.path("id").asText();
                SpiffeId agentId = SpiffeId.parse("spiffe://" + trustDomain + "/sigil/agent/join_token/" + token[1]);
                long uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                String user = System.getProperty("user.name", "uid" + uid).replaceAll("[^A-Za-z0-9._-]", "_");
                workloadId = SpiffeId.parse("spiffe://" + trustDomain + "/dev/" + user);
                admin.post("/v1/entries", Map.of("spiffe_id", workloadId.toString(), "parent_id", agentId.toString(),
                        "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)),
                        "owner", "dev:" + user, "hint", "sigil dev"));
                admin.put("/v1/policy", Map.of("yaml", devPolicy()));
            }
            Path bundle = agentDir.resolve("bundle.pem");
            Files.createDirectories(agentDir);
            Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            AgentConfig config = new AgentConfig(agentDir, new TrustDomain(trustDomain),
                    new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                    new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token[0]),
                    publicDir.resolve("api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
            agent = AgentRuntime.start(config, Clock.systemUTC());
        } catch (RuntimeException e) {
            server.close();
            throw e instanceof SigilException ? new CliException(e.getMessage(), 1, e) : e;
        }
        printWelcome(context.err(), root, server, agent, workloadId);

        Thread signals = new Thread(() -> {
            try {
                context.stopSignal().awaitStop(() -> {
                    agent.close();
                    server.close();
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sigil-dev-signals");
        signals.setDaemon(true);
        signals.start();
        String reason = agent.stopped().join();
        server.close();
        if (!"stopped".equals(reason)) {
            throw new CliException("the development agent stopped: " + reason);
        }
        return 0;
    }

    /** docs/examples/dev-policy.yaml, packaged with the CLI: dev workloads may exchange for https://api.example. */
    static String devPolicy() {
        try (var in = DevCommand.class.getResourceAsStream("dev-policy.yaml")) {
            if (in == null) {
                throw new CliException("the development policy is missing from this build (dev/sigil/cli/dev-policy.yaml)");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("cannot read the development policy: " + e.getMessage(), 1, e);
        }
    }

    private Path prepareRoot() throws IOException {
        Path root = dataDir != null ? dataDir.toAbsolutePath().normalize() : Files.createTempDirectory("sigil-dev-");
        Files.createDirectories(root);
        // Other users' workloads must reach public/api.sock; everything secret lives below server/ (0700).
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return root;
    }

    private SigilServer startServer(Path serverDir) {
        // --bundle-port 0: the server binds a free port before it builds the issuer URL that names it
        Map<String, String> variables = new HashMap<>(context.environment().variables());
        variables.put(ServerConfigLoader.SIGIL_AGENT_API_PORT, Integer.toString(agentApiPort));
        variables.put("SIGIL_BUNDLE_PORT", Integer.toString(bundlePort));
        variables.put(ServerConfigLoader.SIGIL_TOKEN_PORT, Integer.toString(tokenPort));
        ConfigEnvironment environment = new ConfigEnvironment(variables, context.environment().userHome(), context.environment().root());
        ConfigOverrides overrides = ConfigOverrides.none().withDataDir(serverDir);
        overrides = new ConfigOverrides(overrides.dataDir(), Optional.of(trustDomain), Optional.of(logLevel), Optional.empty(),
                Optional.of(bundlePort));
        try {
            ServerConfig config = ServerConfigLoader.load(Optional.empty(), environment, overrides);
            return SigilServer.start(config);
        } catch (SigilException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
    }

    private static void printWelcome(PrintWriter out, Path root, SigilServer server, AgentRuntime agent, SpiffeId workloadId) {
        String socket = "unix://" + agent.workloadApiSocket();
        String bundleUrl = server.bundleEndpointAddress().map(a -> "https://" + a.getHostString() + ":" + a.getPort()).orElse("(disabled)");
        String tokenUrl = server.tokenEndpointAddress().map(a -> "https://" + a.getHostString() + ":" + a.getPort()).orElse("(disabled)");
        out.println("""
                Sigil development environment is running (Ctrl-C stops it). Not for production.

                  trust domain   %s
                  data           %s
                  server         %s  (bundle, OIDC discovery)
                  token service  %s/oauth2/token  (policy: docs/examples/dev-policy.yaml)
                  admin socket   %s
                  agent          %s
                  workload api   %s
                  your identity  %s  (registered for your uid)

                Try, in another terminal:
                  export SPIFFE_ENDPOINT_SOCKET=%s
                  bin/sigil agent api fetch x509
                  bin/sigil entry show --data-dir %s

                Exchange your JWT-SVID for an access token (allowed for https://api.example, denied otherwise):
                  SVID=$(bin/sigil agent api fetch jwt --audience %s | cut -d' ' -f2)
                  curl -sk %s/oauth2/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\
                    -d subject_token_type=urn:ietf:params:oauth:token-type:jwt -d subject_token=$SVID -d audience=https://api.example
                """.formatted(server.authority().trustDomain(), root, bundleUrl, tokenUrl, server.admin().socketPath(),
                agent.agent().svid().map(svid -> svid.spiffeId().toString()).orElse("?"), socket, workloadId, socket,
                root.resolve("server"), server.tokenAudience(), tokenUrl));
        out.flush();
    }
}
