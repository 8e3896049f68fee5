package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.server.AgentSvidStore;
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
    private static final String DEFAULT_TRUST_DOMAIN = "sigil.test";
    private static final String DEV_HINT = "sigil dev";

    @Option(names = "--config", paramLabel = "FILE", description = "Server configuration file (YAML, see docs/configuration.md), "
            + "e.g. with brokers (docs/examples/dev-postgresql.yaml); its data_dir is replaced by DIR/server.")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Keep everything under DIR (default: a new temporary directory, "
            + "deleted on exit).")
    Path dataDir;

    @Option(names = "--trust-domain", paramLabel = "NAME",
            description = "Trust domain (default: the file's trust_domain, else " + DEFAULT_TRUST_DOMAIN + ").")
    String trustDomain;

    @Option(names = "--bundle-port", paramLabel = "PORT",
            description = "Port of the HTTPS bundle endpoint and OIDC discovery (default: the file's, else 8443; 0 picks a free one).")
    Integer bundlePort;

    @Option(names = "--agent-api-port", paramLabel = "PORT",
            description = "Port of the server's agent API (default: the file's, else 8081; 0 picks a free one).")
    Integer agentApiPort;

    @Option(names = "--token-port", paramLabel = "PORT",
            description = "Port of the HTTPS token service (default: the file's, else 8444; 0 picks a free one).")
    Integer tokenPort;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "Log level (default: the file's log_level, else warn).")
    String logLevel;

    private final CliContext context;

    DevCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Path root = prepareRoot();
        try {
            return run(root);
        } finally {
            if (dataDir == null) {
                deleteTree(root);
            }
        }
    }

    private int run(Path root) throws Exception {
        Path serverDir = root.resolve("server");
        Path agentDir = root.resolve("agent");
        Path publicDir = root.resolve("public");
        Files.createDirectories(publicDir);
        Files.setPosixFilePermissions(publicDir, PosixFilePermissions.fromString("rwxr-xr-x"));

        SigilServer server = startServer(serverDir);
        AgentRuntime agent;
        SpiffeId workloadId;
        try {
            TrustDomain domain = server.authority().trustDomain();
            Files.createDirectories(agentDir);
            Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
            // a restart on the same DIR resumes the agent with its stored svid: no new join token, no new entry
            AgentSvidStore stored = new AgentSvidStore(agentDir, domain, Clock.systemUTC());
            Optional<SpiffeId> resumed = stored.load().map(svid -> svid.credentials().svid().spiffeId());
            String joinToken = "";
            try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
                SpiffeId agentId;
                // only an agent the server still knows (and has not banned) can resume; otherwise attest afresh
                if (resumed.isPresent() && knownAndNotBanned(admin, resumed.get())) {
                    agentId = resumed.get();
                } else {
                    stored.delete();
                    JsonNode issued = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
                    joinToken = issued.path("token").asText();
                    agentId = SpiffeId.parse("spiffe://" + domain.name() + "/sigil/agent/join_token/" + issued.path("id").asText());
                }
                long uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                String user = System.getProperty("user.name", "uid" + uid).replaceAll("[^A-Za-z0-9._-]", "_");
                workloadId = SpiffeId.parse("spiffe://" + domain.name() + "/dev/" + user);
                registerWorkload(admin, workloadId, agentId, uid, user);
                admin.put("/v1/policy", Map.of("yaml", devPolicy()));
            }
            Path bundle = agentDir.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            AgentConfig config = new AgentConfig(agentDir, domain,
                    new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                    new AgentConfig.TrustBootstrap.BundleFile(bundle),
                    dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(joinToken.isEmpty() ? "resumed-without-token" : joinToken),
                    publicDir.resolve("api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
            agent = AgentRuntime.start(config, Clock.systemUTC());
        } catch (RuntimeException | IOException e) {
            server.close();
            throw e instanceof SigilException ? new CliException(e.getMessage(), 1, e) : e;
        }
        printWelcome(context.err(), root, server, agent, workloadId, dataDir == null);

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

    /**
     * The current user's dev entry under {@code agentId}; earlier dev entries of the same SPIFFE ID under
     * other (former) agents are removed, so restarts do not pile them up.
     */
    private static void registerWorkload(AdminClient admin, SpiffeId workloadId, SpiffeId agentId, long uid, String user) {
        boolean present = false;
        JsonNode existing = admin.get("/v1/entries", Map.of("spiffe_id", List.of(workloadId.toString()))).json();
        for (JsonNode entry : existing.path("entries")) {
            if (!DEV_HINT.equals(entry.path("hint").asText())) {
                continue;
            }
            if (entry.path("parent_id").asText().equals(agentId.toString())) {
                present = true;
            } else {
                admin.delete("/v1/entries/" + entry.path("id").asText());
            }
        }
        if (!present) {
            admin.post("/v1/entries", Map.of("spiffe_id", workloadId.toString(), "parent_id", agentId.toString(),
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)),
                    "owner", "dev:" + user, "hint", DEV_HINT));
        }
    }

    private static boolean knownAndNotBanned(AdminClient admin, SpiffeId agentId) {
        try {
            return !admin.get("/v1/agents/show", Map.of("spiffe_id", List.of(agentId.toString()))).json().path("banned").asBoolean(false);
        } catch (CliException notFound) {
            return false;
        }
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // best effort: the directory is under the system's temporary directory
        }
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
        Path root;
        if (dataDir != null) {
            root = dataDir.toAbsolutePath().normalize();
        } else {
            // $TMPDIR as Unix tools use it, else the JVM's temporary directory
            Optional<Path> tmp = context.environment().variable("TMPDIR").filter(t -> !t.isBlank()).map(Path::of);
            if (tmp.isPresent()) {
                Files.createDirectories(tmp.get());
            }
            root = tmp.isPresent() ? Files.createTempDirectory(tmp.get(), "sigil-dev-") : Files.createTempDirectory("sigil-dev-");
        }
        Files.createDirectories(root);
        // Other users' workloads must reach public/api.sock; everything secret lives below server/ (0700).
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return root;
    }

    private SigilServer startServer(Path serverDir) {
        // flags win over the file; without a file the development defaults apply
        Map<String, String> variables = new HashMap<>(context.environment().variables());
        putPort(variables, ServerConfigLoader.SIGIL_AGENT_API_PORT, agentApiPort);
        putPort(variables, ServerConfigLoader.SIGIL_BUNDLE_PORT, bundlePort);
        putPort(variables, ServerConfigLoader.SIGIL_TOKEN_PORT, tokenPort);
        ConfigEnvironment environment = new ConfigEnvironment(variables, context.environment().userHome(), context.environment().root());
        Optional<String> domain = Optional.ofNullable(trustDomain).or(() -> config == null ? Optional.of(DEFAULT_TRUST_DOMAIN) : Optional.empty());
        Optional<String> level = Optional.ofNullable(logLevel).or(() -> config == null ? Optional.of("warn") : Optional.empty());
        // --bundle-port 0: the server binds a free port before it builds the issuer URL that names it
        ConfigOverrides overrides = new ConfigOverrides(Optional.of(serverDir), domain, level, Optional.empty(),
                Optional.ofNullable(bundlePort));
        try {
            ServerConfig serverConfig = ServerConfigLoader.load(Optional.ofNullable(config), environment, overrides);
            Logging.apply(serverConfig.logLevel());
            Logging.format(serverConfig.logFormat());
            return SigilServer.start(serverConfig);
        } catch (SigilException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
    }

    private static void putPort(Map<String, String> variables, String name, Integer port) {
        if (port != null) {
            variables.put(name, Integer.toString(port));
        }
    }

    private static void printWelcome(PrintWriter out, Path root, SigilServer server, AgentRuntime agent, SpiffeId workloadId,
                                     boolean temporary) {
        String socket = "unix://" + agent.workloadApiSocket();
        String bundleUrl = server.bundleEndpointAddress().map(a -> "https://" + a.getHostString() + ":" + a.getPort()).orElse("(disabled)");
        String tokenUrl = server.tokenEndpointAddress().map(a -> "https://" + a.getHostString() + ":" + a.getPort()).orElse("(disabled)");
        out.println("""
                Sigil development environment is running (Ctrl-C stops it). Not for production.

                  trust domain   %s
                  data           %s%s
                  server         %s  (bundle, OIDC discovery)
                  token service  %s/oauth2/token  (policy: docs/examples/dev-policy.yaml)
                  admin socket   %s
                  agent          %s
                  workload api   %s
                  your identity  %s  (registered for your uid)

                Try, in another terminal:
                  export SPIFFE_ENDPOINT_SOCKET=%s
                  export SIGIL_TOKEN_URL=%s
                  bin/sigil agent api fetch x509
                  bin/sigil entry show --data-dir %s

                Get a credential from a configured broker (the token service's audience is discovered from SIGIL_TOKEN_URL):
                  bin/sigil credential get --broker postgresql --resource reports

                Exchange your JWT-SVID for an access token (allowed for https://api.example, denied otherwise):
                  SVID=$(bin/sigil agent api fetch jwt --audience %s | cut -d' ' -f2)
                  curl -sk %s/oauth2/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\
                    -d subject_token_type=urn:ietf:params:oauth:token-type:jwt -d subject_token=$SVID -d audience=https://api.example
                """.formatted(server.authority().trustDomain(), root, temporary ? "  (temporary: deleted on exit; keep it with --data-dir)" : "",
                bundleUrl, tokenUrl, server.admin().socketPath(),
                agent.agent().svid().map(svid -> svid.spiffeId().toString()).orElse("?"), socket, workloadId, socket, tokenUrl,
                root.resolve("server"), server.tokenAudience(), tokenUrl));
        out.flush();
    }
}
