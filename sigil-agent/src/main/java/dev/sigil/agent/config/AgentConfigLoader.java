package dev.sigil.agent.config;

import dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin;
import dev.sigil.core.plugin.PluginChoice;

import dev.sigil.core.time.Durations;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the agent configuration. Precedence for every setting: environment variable, then the YAML
 * file, then the documented default (docs/agent.md). Paths in the file are relative to the file's
 * directory; paths from variables to the working directory.
 */
public final class AgentConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(AgentConfigLoader.class);

    public static final String SIGIL_AGENT_DATA_DIR = "SIGIL_AGENT_DATA_DIR";
    public static final String SIGIL_AGENT_TRUST_DOMAIN = "SIGIL_AGENT_TRUST_DOMAIN";
    public static final String SIGIL_AGENT_SERVER_ADDRESS = "SIGIL_AGENT_SERVER_ADDRESS";
    public static final String SIGIL_AGENT_LOG_LEVEL = "SIGIL_AGENT_LOG_LEVEL";
    public static final String SIGIL_JOIN_TOKEN = "SIGIL_JOIN_TOKEN";

    static final AgentConfig.ServerAddress DEFAULT_SERVER = new AgentConfig.ServerAddress("127.0.0.1", 8081);
    static final Path DEFAULT_SOCKET = Path.of("/tmp/sigil-agent/public/api.sock");
    static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(5);

    private AgentConfigLoader() {
    }

    /** Loads {@code file} (when given) and applies the environment; throws {@link AgentConfigException}. */
    public static AgentConfig load(Optional<Path> file, AgentEnvironment env) {
        AgentConfigFile.Root raw = file.map(AgentConfigLoader::read).orElse(AgentConfigFile.Root.empty());
        try {
            return resolve(raw, env);
        } catch (AgentConfigException e) {
            boolean fromFile = !e.getMessage().startsWith("environment variable ");
            throw file.isPresent() && fromFile ? new AgentConfigException(file.get().toAbsolutePath().normalize() + ": " + e.getMessage(), e) : e;
        } catch (IllegalArgumentException e) {
            throw new AgentConfigException(e.getMessage(), e);
        }
    }

    static AgentConfigFile.Root read(Path file) {
        return AgentConfigFile.FORMAT.read(file, Path.of(System.getProperty("user.home")));
    }

    /** The metrics listener's port when {@code metrics} names none (docs/observability.md). */
    static final int DEFAULT_METRICS_PORT = 9465;

    private static AgentConfig resolve(AgentConfigFile.Root raw, AgentEnvironment env) {
        Path dataDir = env.variable(SIGIL_AGENT_DATA_DIR).map(text -> fromEnv(SIGIL_AGENT_DATA_DIR, text, AgentConfigLoader::cwdPath))
                .orElseGet(() -> raw.dataDir() != null ? raw.dataDir() : env.defaultDataDir());
        TrustDomain trustDomain = pick(env, SIGIL_AGENT_TRUST_DOMAIN, TrustDomain::parse, raw.trustDomain(), null);
        if (trustDomain == null) {
            throw new AgentConfigException("trust_domain is required (or set " + SIGIL_AGENT_TRUST_DOMAIN + "), for example example.org");
        }
        List<AgentConfig.ServerAddress> servers = pick(env, SIGIL_AGENT_SERVER_ADDRESS, AgentConfig.ServerAddress::parseList,
                raw.serverAddress() == null ? null : raw.serverAddress().addresses(), List.of(DEFAULT_SERVER));
        AgentConfig.LogLevel logLevel = pick(env, SIGIL_AGENT_LOG_LEVEL, AgentConfig.LogLevel::parse, raw.logLevel(), AgentConfig.LogLevel.INFO);
        Path socket = raw.workloadApi() != null && raw.workloadApi().socketPath() != null ? raw.workloadApi().socketPath() : DEFAULT_SOCKET;
        Duration syncInterval = raw.syncInterval() != null ? raw.syncInterval() : DEFAULT_SYNC_INTERVAL;
        if (syncInterval.toSeconds() < 1) {
            throw new AgentConfigException("sync_interval '" + Durations.format(syncInterval) + "' is too short; use at least 1s");
        }
        Duration reattest = raw.workloadReattestInterval() != null ? raw.workloadReattestInterval() : AgentConfig.DEFAULT_REATTEST_INTERVAL;
        if (reattest.compareTo(AgentConfig.MIN_REATTEST_INTERVAL) < 0) {
            throw new AgentConfigException("workload_reattest_interval '" + Durations.format(reattest)
                    + "' is too short; use at least 100ms (PT0.1S)");
        }
        return new AgentConfig(dataDir, trustDomain, servers, bootstrap(raw), nodeAttestor(raw.nodeAttestor(), env), socket, syncInterval,
                logLevel, reattest, raw.workloadAttestors() == null ? AgentPlugins.defaultWorkloadAttestors() : raw.workloadAttestors(),
                raw.logFormat() == null ? dev.sigil.core.observability.LogFormat.TEXT : raw.logFormat(),
                dev.sigil.core.observability.MetricsListenerSettings.from(raw.metrics(), DEFAULT_METRICS_PORT));
    }

    private static AgentConfig.TrustBootstrap bootstrap(AgentConfigFile.Root raw) {
        boolean insecure = Boolean.TRUE.equals(raw.insecureBootstrap());
        if (insecure && raw.trustBundlePath() != null) {
            throw new AgentConfigException("trust_bundle_path and insecure_bootstrap: true exclude each other; keep trust_bundle_path");
        }
        if (insecure) {
            LOG.warn("insecure_bootstrap is on: the agent will trust the first server certificate that claims the server's "
                    + "spiffe id without verifying it; anyone able to intercept that connection can impersonate the server. "
                    + "Use trust_bundle_path outside development.");
            return new AgentConfig.TrustBootstrap.Insecure();
        }
        if (raw.trustBundlePath() == null) {
            throw new AgentConfigException("trust_bundle_path is required: a PEM file of the trust domain's x509 authorities "
                    + "(from 'sigil bundle show'); insecure_bootstrap: true skips server authentication for development only");
        }
        return new AgentConfig.TrustBootstrap.BundleFile(raw.trustBundlePath());
    }

    /**
     * The node attestor: the file's {@code node_attestor} (its {@code type} chooses the plugin), or
     * {@code join_token} when only {@code SIGIL_JOIN_TOKEN} is set, whose token wins over the file's.
     */
    private static PluginChoice nodeAttestor(PluginChoice file, AgentEnvironment env) {
        Optional<String> envToken = env.variable(SIGIL_JOIN_TOKEN);
        if (file != null && file.type().equals(JoinTokenAttestorClientPlugin.TYPE) && envToken.isEmpty()
                && file.settings(JoinTokenAttestorClientPlugin.Settings.class).joinToken() != null) {
            LOG.warn("the join token is set in the configuration file; prefer the {} environment variable", SIGIL_JOIN_TOKEN);
        }
        return JoinTokenAttestorClientPlugin.withEnvironmentToken(Optional.ofNullable(file), envToken).orElseThrow(() ->
                new AgentConfigException("node_attestor.type is required: join_token (with node_attestor.join_token or "
                        + SIGIL_JOIN_TOKEN + "), x509pop (with cert_file and key_file) or jwt (with token_path)"));
    }

    private static <T> T pick(AgentEnvironment env, String variable, Function<String, T> parse, T fileValue, T defaultValue) {
        Optional<String> fromEnv = env.variable(variable);
        if (fromEnv.isPresent()) {
            return fromEnv(variable, fromEnv.get(), parse);
        }
        return fileValue != null ? fileValue : defaultValue;
    }

    private static <T> T fromEnv(String variable, String text, Function<String, T> parse) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException | InvalidSpiffeIdException e) {
            throw new AgentConfigException("environment variable " + variable + ": " + e.getMessage(), e);
        }
    }

    private static Path cwdPath(String text) {
        return Path.of(text).toAbsolutePath().normalize();
    }
}
