package dev.sigil.server.config;

import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginChoiceDeserializer;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the server configuration. Precedence for every setting: command-line flag, then environment
 * variable, then the YAML file, then the documented default (docs/configuration.md). Paths in the file
 * are relative to the file's directory; paths from flags and variables to the working directory.
 */
public final class ServerConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ServerConfigLoader.class);

    public static final String SIGIL_DATA_DIR = "SIGIL_DATA_DIR";
    public static final String SIGIL_TRUST_DOMAIN = "SIGIL_TRUST_DOMAIN";
    public static final String SIGIL_LOG_LEVEL = "SIGIL_LOG_LEVEL";
    public static final String SIGIL_DATASTORE_URL = "SIGIL_DATASTORE_URL";
    public static final String SIGIL_DATASTORE_USER = "SIGIL_DATASTORE_USER";
    public static final String SIGIL_DATASTORE_PASSWORD = "SIGIL_DATASTORE_PASSWORD";
    public static final String SIGIL_BUNDLE_PORT = "SIGIL_BUNDLE_PORT";
    public static final String SIGIL_AGENT_API_PORT = "SIGIL_AGENT_API_PORT";
    public static final String SIGIL_TOKEN_PORT = "SIGIL_TOKEN_PORT";
    public static final String SIGIL_ADMIN_SOCKET = "SIGIL_ADMIN_SOCKET";

    static final TrustDomain DEFAULT_TRUST_DOMAIN = new TrustDomain("sigil.test");
    static final int DEFAULT_BUNDLE_PORT = 8443;
    static final int DEFAULT_AGENT_API_PORT = 8081;
    static final int DEFAULT_ADMIN_TCP_PORT = 8444;
    static final String LOOPBACK = "127.0.0.1";

    private ServerConfigLoader() {
    }

    /** Loads {@code file} (when given) and applies the environment and flags; throws {@link ConfigException}. */
    public static ServerConfig load(Optional<Path> file, ConfigEnvironment env, ConfigOverrides flags) {
        ConfigFile.Root raw = file.map(path -> read(path, env)).orElse(ConfigFile.Root.empty());
        try {
            return resolve(raw, env, flags);
        } catch (ConfigException e) {
            boolean fromFile = !e.getMessage().startsWith("environment variable ") && !e.getMessage().startsWith("--");
            throw file.isPresent() && fromFile ? new ConfigException(file.get().toAbsolutePath().normalize() + ": " + e.getMessage(), e) : e;
        }
    }

    /**
     * Only the admin socket path, resolved exactly as {@link #load} resolves {@code admin.socket_path}
     * (flag, SIGIL_ADMIN_SOCKET, file, then {@code <data_dir>/admin/admin.sock}). For CLI clients, which
     * must find the server without caring about its other settings.
     */
    public static Path adminSocket(Optional<Path> file, ConfigEnvironment env, ConfigOverrides flags) {
        ConfigFile.Root raw = file.map(path -> read(path, env)).orElse(ConfigFile.Root.empty());
        return socketPath(raw.admin(), env, flags, dataDir(raw, env, flags));
    }

    static ConfigFile.Root read(Path file, ConfigEnvironment env) {
        return ConfigFile.FORMAT.read(file, env.userHome());
    }

    /** The configured brokers (none without a {@code brokers:} section), how many their kind allows. */
    private static PluginBlocks brokers(PluginBlocks configured) {
        PluginBlocks brokers = configured == null ? PluginBlocks.none(ServerPlugins.BROKERS) : configured;
        cardinality(ServerPlugins.BROKERS, brokers.blocks().keySet());
        return brokers;
    }

    /**
     * The node attestors: the {@code node_attestors} section when present (exactly what it lists), else
     * {@code join_token} alone. {@code agent_api.x509pop.ca_bundle_file}, the older spelling of
     * {@code node_attestors.x509pop}, adds x509pop to either; naming x509pop in both places is refused.
     */
    private static PluginBlocks nodeAttestors(PluginBlocks configured, ConfigFile.AgentApi api) {
        PluginRegistry registry = PluginRegistry.installed();
        java.util.Map<String, Record> blocks = new java.util.LinkedHashMap<>();
        if (configured == null) {
            blocks.put("join_token", settings(registry, ServerPlugins.NODE_ATTESTORS, "join_token", java.util.Map.of()));
        } else {
            blocks.putAll(configured.blocks());
        }
        if (api != null && api.x509pop() != null) {
            if (blocks.containsKey("x509pop")) {
                throw new ConfigException("x509pop is configured twice: in node_attestors.x509pop and in agent_api.x509pop "
                        + "(the older spelling); keep node_attestors.x509pop");
            }
            if (api.x509pop().caBundleFile() == null) {
                throw new ConfigException("agent_api.x509pop needs ca_bundle_file (pem node ca certificates)");
            }
            blocks.put("x509pop", settings(registry, ServerPlugins.NODE_ATTESTORS, "x509pop",
                    java.util.Map.of("ca_bundle_file", api.x509pop().caBundleFile().toString())));
        }
        cardinality(ServerPlugins.NODE_ATTESTORS, blocks.keySet());
        return new PluginBlocks(ServerPlugins.NODE_ATTESTORS, blocks);
    }

    private static void cardinality(PluginKind kind, java.util.Collection<String> configured) {
        try {
            kind.cardinality().check(kind, configured);
        } catch (dev.sigil.core.plugin.PluginException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /**
     * Settings for plugin {@code type} of {@code kind} from plain values (keys in snake_case), for a block the
     * loader builds itself (an older spelling of the same setting); refused like a block in the file.
     */
    private static Record settings(PluginRegistry registry, PluginKind kind, String type, java.util.Map<String, Object> values) {
        var plugin = registry.plugins(kind).get(type);
        if (plugin == null) {
            throw new ConfigException(kind.section() + "." + type + " is not an installed " + kind.singular());
        }
        try {
            return ConfigFile.FORMAT.mapper().convertValue(values, plugin.settingsType());
        } catch (IllegalArgumentException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof ConfigException config) {
                    throw config;
                }
            }
            throw new ConfigException(kind.section() + "." + type + ": " + e.getMessage(), e);
        }
    }

    private static ServerConfig resolve(ConfigFile.Root raw, ConfigEnvironment env, ConfigOverrides flags) {
        Path dataDir = dataDir(raw, env, flags);
        TrustDomain trustDomain = pick(flags.trustDomain(), "--trust-domain", env, SIGIL_TRUST_DOMAIN, TrustDomain::parse,
                raw.trustDomain(), DEFAULT_TRUST_DOMAIN);
        ServerConfig.LogLevel logLevel = pick(flags.logLevel(), "--log-level", env, SIGIL_LOG_LEVEL, ServerConfig.LogLevel::parse,
                raw.logLevel(), ServerConfig.LogLevel.INFO);

        ConfigFile.Ca ca = raw.ca() == null ? new ConfigFile.Ca(null, null, null, null) : raw.ca();
        ConfigFile.Jwt jwt = raw.jwt() == null ? new ConfigFile.Jwt(null, null, null) : raw.jwt();
        return new ServerConfig(
                dataDir,
                trustDomain,
                logLevel,
                datastore(raw.datastore(), env, dataDir),
                keyManager(raw.keyManager()),
                new ServerConfig.CaSettings(or(ca.keyType(), KeyType.EC_P256), or(ca.ttl(), Duration.ofHours(24)),
                        Optional.ofNullable(ca.upstream()).map(ServerConfigLoader::upstream),
                        or(ca.joinDelay(), ServerConfig.CaSettings.DEFAULT_JOIN_DELAY)),
                new ServerConfig.JwtSettings(or(jwt.keyType(), KeyType.EC_P256), or(jwt.keyTtl(), Duration.ofHours(24)),
                        Optional.ofNullable(jwt.issuer())),
                or(raw.defaultX509SvidTtl(), Duration.ofHours(1)),
                or(raw.defaultJwtSvidTtl(), Duration.ofMinutes(5)),
                admin(raw.admin(), env, flags, dataDir),
                bundleEndpoint(raw.bundleEndpoint(), env, flags),
                agentApi(raw.agentApi(), env),
                tokenEndpoint(raw.tokenEndpoint(), env),
                audit(raw.audit()),
                brokers(raw.brokers()),
                nodeAttestors(raw.nodeAttestors(), raw.agentApi()),
                raw.logFormat() == null ? dev.sigil.core.observability.LogFormat.TEXT : raw.logFormat(),
                dev.sigil.core.observability.MetricsListenerSettings.from(raw.metrics(), DEFAULT_METRICS_PORT),
                governance(raw.governance(), trustDomain));
    }

    private static GovernanceSettings governance(ConfigFile.Governance file, TrustDomain trustDomain) {
        GovernanceSettings defaults = GovernanceSettings.defaults(trustDomain.name());
        if (file == null) {
            return defaults;
        }
        return new GovernanceSettings(or(file.owners(), defaults.owners()), or(file.staleAfter(), defaults.staleAfter()),
                or(file.maxCredentialTtl(), defaults.maxCredentialTtl()), or(file.maxSvidTtl(), defaults.maxSvidTtl()),
                or(file.renewalHeadroomPercent(), defaults.renewalHeadroomPercent()), or(file.reuseMaxNodes(), defaults.reuseMaxNodes()),
                or(file.reuseMaxBinaries(), defaults.reuseMaxBinaries()), or(file.productionIds(), defaults.productionIds()),
                or(file.environments(), defaults.environments()), or(file.maxAuditRecords(), defaults.maxAuditRecords()));
    }

    /** The metrics listener's port when {@code metrics} names none (docs/observability.md). */
    static final int DEFAULT_METRICS_PORT = 9464;

    static final int DEFAULT_TOKEN_ENDPOINT_PORT = 8444;

    private static ServerConfig.TokenEndpointSettings tokenEndpoint(ConfigFile.TokenEndpoint file, ConfigEnvironment env) {
        ConfigFile.TokenEndpoint token = file == null ? new ConfigFile.TokenEndpoint(null, null, null, null, null, null, null, null, null) : file;
        int port = env.variable(SIGIL_TOKEN_PORT).map(text -> fromEnv(SIGIL_TOKEN_PORT, text, ServerConfigLoader::port))
                .orElseGet(() -> or(token.port(), DEFAULT_TOKEN_ENDPOINT_PORT));
        return new ServerConfig.TokenEndpointSettings(or(token.enabled(), true), or(token.address(), LOOPBACK),
                port, or(token.defaultTtl(), Duration.ofMinutes(5)),
                Optional.ofNullable(token.audience()), introspectors(token.introspectors()),
                limits("token_endpoint", token.idleTimeout(), token.requestTimeout(), token.maxConnections()));
    }

    private static dev.sigil.server.http.ListenerLimits limits(String block, Duration idle, Duration request, Integer connections) {
        dev.sigil.server.http.ListenerLimits defaults = dev.sigil.server.http.ListenerLimits.DEFAULTS;
        Duration idleTimeout = or(idle, defaults.idleTimeout());
        Duration requestTimeout = or(request, defaults.requestTimeout());
        int maxConnections = or(connections, defaults.maxConnections());
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new ConfigException(block + ".idle_timeout is " + dev.sigil.core.time.Durations.format(idleTimeout) + "; it must be positive, e.g. 30s");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new ConfigException(block + ".request_timeout is " + dev.sigil.core.time.Durations.format(requestTimeout) + "; it must be positive, e.g. 10s");
        }
        if (maxConnections < 1 || maxConnections > 1_000_000) {
            throw new ConfigException(block + ".max_connections is " + maxConnections + "; use 1 to 1000000");
        }
        return new dev.sigil.server.http.ListenerLimits(idleTimeout, requestTimeout, maxConnections);
    }

    private static java.util.List<dev.sigil.core.spiffeid.SpiffeId> introspectors(java.util.List<String> ids) {
        if (ids == null) {
            return java.util.List.of();
        }
        java.util.List<dev.sigil.core.spiffeid.SpiffeId> parsed = new java.util.ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            try {
                parsed.add(dev.sigil.core.spiffeid.SpiffeId.parse(ids.get(i)));
            } catch (RuntimeException e) {
                throw new ConfigException("token_endpoint.introspectors[" + i + "] is not a spiffe id: " + e.getMessage());
            }
        }
        return java.util.List.copyOf(parsed);
    }

    private static ServerConfig.AuditSettings audit(ConfigFile.Audit file) {
        ConfigFile.Audit audit = file == null ? new ConfigFile.Audit(null, null, null, null) : file;
        return new ServerConfig.AuditSettings(or(audit.checkpointEvery(), 100), or(audit.checkpointInterval(), Duration.ofSeconds(10)),
                Optional.ofNullable(audit.jsonlFile()), Optional.ofNullable(audit.hmacKeyFile()));
    }

    private static ServerConfig.AgentApiSettings agentApi(ConfigFile.AgentApi file, ConfigEnvironment env) {
        ConfigFile.AgentApi api = file == null ? new ConfigFile.AgentApi(null, null, null, null) : file;
        int port = env.variable(SIGIL_AGENT_API_PORT).map(text -> fromEnv(SIGIL_AGENT_API_PORT, text, ServerConfigLoader::port))
                .orElseGet(() -> or(api.port(), DEFAULT_AGENT_API_PORT));
        return new ServerConfig.AgentApiSettings(or(api.address(), LOOPBACK), port, Optional.ofNullable(api.agentSvidTtl()));
    }

    private static Path dataDir(ConfigFile.Root raw, ConfigEnvironment env, ConfigOverrides flags) {
        return flags.dataDir().map(ServerConfigLoader::cwdPath)
                .or(() -> env.variable(SIGIL_DATA_DIR).map(text -> fromEnv(SIGIL_DATA_DIR, text, ServerConfigLoader::cwdPath)))
                .orElseGet(() -> raw.dataDir() != null ? raw.dataDir() : env.defaultDataDir());
    }

    private static Path socketPath(ConfigFile.Admin admin, ConfigEnvironment env, ConfigOverrides flags, Path dataDir) {
        return flags.adminSocket().map(ServerConfigLoader::cwdPath)
                .or(() -> env.variable(SIGIL_ADMIN_SOCKET).map(text -> fromEnv(SIGIL_ADMIN_SOCKET, text, ServerConfigLoader::cwdPath)))
                .orElseGet(() -> admin != null && admin.socketPath() != null ? admin.socketPath() : defaultAdminSocket(dataDir));
    }

    private static ServerConfig.DatastoreSettings datastore(ConfigFile.Datastore file, ConfigEnvironment env, Path dataDir) {
        ConfigFile.Datastore ds = file == null ? new ConfigFile.Datastore(null, null, null, null, null, null) : file;
        Optional<String> envUrl = env.variable(SIGIL_DATASTORE_URL);
        ConfigFile.DatastoreType type = envUrl.isPresent() ? ConfigFile.DatastoreType.POSTGRESQL
                : or(ds.type(), ConfigFile.DatastoreType.SQLITE);
        if (type == ConfigFile.DatastoreType.SQLITE) {
            for (String key : new String[] {ds.url() == null ? null : "url", ds.user() == null ? null : "user",
                    ds.password() == null ? null : "password", ds.maxPoolSize() == null ? null : "max_pool_size"}) {
                if (key != null) {
                    throw new ConfigException("datastore." + key + " is only used with datastore.type postgresql (the type is sqlite)");
                }
            }
            return new ServerConfig.Sqlite(or(ds.file(), dataDir.resolve("datastore.sqlite3")));
        }
        if (ds.file() != null) {
            throw new ConfigException("datastore.file is only used with datastore.type sqlite (the type is postgresql)");
        }
        String url = envUrl.map(text -> fromEnv(SIGIL_DATASTORE_URL, text, ServerConfigLoader::jdbcUrl))
                .orElseGet(() -> {
                    if (ds.url() == null) {
                        throw new ConfigException("datastore.url is required with datastore.type postgresql (or set " + SIGIL_DATASTORE_URL + ")");
                    }
                    return jdbcUrl(ds.url());
                });
        if (ds.password() != null) {
            LOG.warn("datastore.password is set in the configuration file; prefer the {} environment variable", SIGIL_DATASTORE_PASSWORD);
        }
        return new ServerConfig.Postgresql(url,
                env.variable(SIGIL_DATASTORE_USER).orElse(ds.user()),
                env.variable(SIGIL_DATASTORE_PASSWORD).orElse(ds.password()),
                or(ds.maxPoolSize(), 10));
    }

    /** Accepts jdbc:postgresql://, postgresql:// and postgres:// URLs without credentials in them. */
    static String jdbcUrl(String url) {
        String rest;
        if (url.startsWith("jdbc:postgresql://")) {
            rest = url.substring("jdbc:postgresql://".length());
        } else if (url.startsWith("postgresql://")) {
            rest = url.substring("postgresql://".length());
        } else if (url.startsWith("postgres://")) {
            rest = url.substring("postgres://".length());
        } else {
            throw new ConfigException("datastore.url '" + url + "' is not a postgresql url; use jdbc:postgresql://host:5432/db or postgresql://host:5432/db");
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        if (authority.contains("@")) {
            throw new ConfigException("datastore.url must not contain a user or password; use datastore.user and "
                    + SIGIL_DATASTORE_PASSWORD);
        }
        return "jdbc:postgresql://" + rest;
    }

    /** The key manager the file chooses ({@code disk} under {@code <data_dir>/keys} when the section is absent). */
    private static PluginChoice keyManager(PluginChoice configured) {
        if (configured != null) {
            return configured;
        }
        try {
            return PluginChoiceDeserializer.choose(PluginRegistry.installed(), ServerPlugins.KEY_MANAGER, "disk", java.util.Map.of(),
                    ConfigFile.FORMAT.mapper());
        } catch (dev.sigil.core.plugin.PluginException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static ServerConfig.UpstreamSettings upstream(ConfigFile.Upstream upstream) {
        if (upstream.certFile() == null || upstream.keyFile() == null) {
            throw new ConfigException("ca.upstream needs both cert_file and key_file");
        }
        return new ServerConfig.UpstreamSettings(upstream.certFile(), upstream.keyFile(), Optional.ofNullable(upstream.bundleFile()));
    }

    private static ServerConfig.AdminSettings admin(ConfigFile.Admin file, ConfigEnvironment env, ConfigOverrides flags, Path dataDir) {
        ConfigFile.Admin admin = file == null ? new ConfigFile.Admin(null, null) : file;
        Path socket = socketPath(admin, env, flags, dataDir);
        Optional<ServerConfig.AdminTcpSettings> tcp = Optional.ofNullable(admin.tcp())
                .map(t -> new ServerConfig.AdminTcpSettings(or(t.address(), LOOPBACK), or(t.port(), DEFAULT_ADMIN_TCP_PORT)));
        return new ServerConfig.AdminSettings(socket, tcp);
    }

    /** {@code <data_dir>/admin/admin.sock}: where server and CLI meet when nothing else is configured. */
    public static Path defaultAdminSocket(Path dataDir) {
        return dataDir.resolve("admin").resolve("admin.sock");
    }

    private static ServerConfig.BundleEndpointSettings bundleEndpoint(ConfigFile.BundleEndpoint file, ConfigEnvironment env,
                                                                      ConfigOverrides flags) {
        ConfigFile.BundleEndpoint be = file == null ? new ConfigFile.BundleEndpoint(null, null, null, null, null) : file;
        int port = flags.bundlePort()
                .or(() -> env.variable(SIGIL_BUNDLE_PORT).map(text -> fromEnv(SIGIL_BUNDLE_PORT, text, ServerConfigLoader::port)))
                .orElseGet(() -> or(be.port(), DEFAULT_BUNDLE_PORT));
        Optional<ServerConfig.WebTlsSettings> web = Optional.ofNullable(be.webTls()).map(w -> {
            if (w.certFile() == null || w.keyFile() == null) {
                throw new ConfigException("bundle_endpoint.web_tls needs both cert_file and key_file");
            }
            return new ServerConfig.WebTlsSettings(w.certFile(), w.keyFile());
        });
        return new ServerConfig.BundleEndpointSettings(or(be.enabled(), true), or(be.address(), LOOPBACK), port,
                or(be.refreshHint(), Duration.ofMinutes(5)), web);
    }

    private static int port(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a port; use 1 to 65535");
        }
    }

    private static Path cwdPath(Path path) {
        return path.toAbsolutePath().normalize();
    }

    private static Path cwdPath(String text) {
        return Path.of(text).toAbsolutePath().normalize();
    }

    private static <T> T pick(Optional<String> flag, String flagName, ConfigEnvironment env, String variable,
                              Function<String, T> parse, T fileValue, T defaultValue) {
        if (flag.isPresent()) {
            return parsed(flagName, flag.get(), parse);
        }
        Optional<String> fromEnv = env.variable(variable);
        if (fromEnv.isPresent()) {
            return fromEnv(variable, fromEnv.get(), parse);
        }
        return or(fileValue, defaultValue);
    }

    private static <T> T fromEnv(String variable, String text, Function<String, T> parse) {
        return parsed("environment variable " + variable, text, parse);
    }

    private static <T> T parsed(String source, String text, Function<String, T> parse) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException | InvalidSpiffeIdException | ConfigException e) {
            throw new ConfigException(source + ": " + e.getMessage(), e);
        }
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
