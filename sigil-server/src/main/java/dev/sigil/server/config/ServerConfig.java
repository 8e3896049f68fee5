package dev.sigil.server.config;

import dev.sigil.core.time.Durations;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.DatastoreConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's resolved configuration: every default applied, every value validated, every path
 * absolute. Build it with {@link ServerConfigLoader}; a directly constructed instance is validated the
 * same way. Error messages name the configuration key. {@link #toString()} never prints a password.
 */
public record ServerConfig(
        Path dataDir,
        TrustDomain trustDomain,
        LogLevel logLevel,
        DatastoreSettings datastore,
        dev.sigil.core.plugin.PluginChoice keyManager,
        CaSettings ca,
        JwtSettings jwt,
        Duration defaultX509SvidTtl,
        Duration defaultJwtSvidTtl,
        AdminSettings admin,
        BundleEndpointSettings bundleEndpoint,
        AgentApiSettings agentApi,
        TokenEndpointSettings tokenEndpoint,
        AuditSettings audit,
        dev.sigil.core.plugin.PluginBlocks brokers,
        dev.sigil.core.plugin.PluginBlocks nodeAttestors,
        dev.sigil.core.observability.LogFormat logFormat,
        Optional<dev.sigil.core.observability.MetricsListenerSettings> metrics,
        GovernanceSettings governance) {

    public ServerConfig {
        Objects.requireNonNull(logFormat, "log_format");
        Objects.requireNonNull(metrics, "metrics");
        dataDir = absolute("data_dir", dataDir);
        Objects.requireNonNull(trustDomain, "trust_domain");
        Objects.requireNonNull(logLevel, "log_level");
        Objects.requireNonNull(datastore, "datastore");
        Objects.requireNonNull(keyManager, "key_manager");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(jwt, "jwt");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(bundleEndpoint, "bundle_endpoint");
        Objects.requireNonNull(agentApi, "agent_api");
        Objects.requireNonNull(tokenEndpoint, "token_endpoint");
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(brokers, "brokers");
        Objects.requireNonNull(nodeAttestors, "node_attestors");
        Objects.requireNonNull(governance, "governance");
        agentApi.agentSvidTtl().ifPresent(ttl -> {
            if (ttl.compareTo(ca.ttl()) >= 0) {
                throw new ConfigException("agent_api.agent_svid_ttl (" + Durations.format(ttl) + ") must be shorter than ca.ttl ("
                        + Durations.format(ca.ttl()) + "); an svid cannot outlive its ca");
            }
        });
        positive("default_x509_svid_ttl", defaultX509SvidTtl);
        positive("default_jwt_svid_ttl", defaultJwtSvidTtl);
        if (defaultX509SvidTtl.compareTo(ca.ttl()) >= 0) {
            throw new ConfigException("default_x509_svid_ttl (" + Durations.format(defaultX509SvidTtl)
                    + ") must be shorter than ca.ttl (" + Durations.format(ca.ttl()) + "); an svid cannot outlive its ca");
        }
        if (defaultJwtSvidTtl.compareTo(jwt.keyTtl()) >= 0) {
            throw new ConfigException("default_jwt_svid_ttl (" + Durations.format(defaultJwtSvidTtl)
                    + ") must be shorter than jwt.key_ttl (" + Durations.format(jwt.keyTtl()) + ")");
        }
    }

    /**
     * The issuer written into JWT-SVIDs and served by OIDC discovery: {@code jwt.issuer} when set,
     * otherwise the bundle endpoint's own https URL.
     */
    /** This configuration with the bundle endpoint on {@code port} (a port bound before the server is built). */
    public ServerConfig withBundleEndpointPort(int port) {
        BundleEndpointSettings bundle = new BundleEndpointSettings(bundleEndpoint.enabled(), bundleEndpoint.address(), port,
                bundleEndpoint.refreshHint(), bundleEndpoint.webTls());
        return new ServerConfig(dataDir, trustDomain, logLevel, datastore, keyManager, ca, jwt, defaultX509SvidTtl, defaultJwtSvidTtl,
                admin, bundle, agentApi, tokenEndpoint, audit, brokers, nodeAttestors, logFormat, metrics, governance);
    }

    public URI jwtIssuer() {
        return jwt.issuer().orElseGet(() -> URI.create("https://" + hostForUri(bundleEndpoint.address()) + ":" + bundleEndpoint.port()));
    }

    private static String hostForUri(String address) {
        return address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address;
    }

    /** Log verbosity of the server process. */
    public enum LogLevel {
        TRACE, DEBUG, INFO, WARN, ERROR;

        public static LogLevel parse(String text) {
            for (LogLevel level : values()) {
                if (level.name().equalsIgnoreCase(text == null ? "" : text.trim())) {
                    return level;
                }
            }
            throw new IllegalArgumentException("log level '" + text + "' is not valid; use trace, debug, info, warn or error");
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where registration, tokens and the audit trail are stored. */
    public sealed interface DatastoreSettings {
        DatastoreConfig toDatastoreConfig();
    }

    /** An embedded SQLite file (the default, zero set-up). */
    public record Sqlite(Path file) implements DatastoreSettings {
        public Sqlite {
            file = absolute("datastore.file", file);
        }

        @Override
        public DatastoreConfig toDatastoreConfig() {
            return DatastoreConfig.sqlite(file);
        }
    }

    /** A PostgreSQL database, e.g. {@code jdbc:postgresql://db.internal:5432/sigil}. */
    public record Postgresql(String url, String user, String password, int maxPoolSize) implements DatastoreSettings {
        public Postgresql {
            Objects.requireNonNull(url, "datastore.url");
            if (!url.startsWith("jdbc:postgresql://")) {
                throw new ConfigException("datastore.url '" + url + "' is not a postgresql url; use jdbc:postgresql://host:5432/db or postgresql://host:5432/db");
            }
            user = user == null ? "" : user;
            password = password == null ? "" : password;
            if (maxPoolSize < 1 || maxPoolSize > 200) {
                throw new ConfigException("datastore.max_pool_size is " + maxPoolSize + "; use 1 to 200");
            }
        }

        @Override
        public DatastoreConfig toDatastoreConfig() {
            return DatastoreConfig.postgresql(url, user, password).withMaxPoolSize(maxPoolSize);
        }

        @Override
        public String toString() {
            return "Postgresql[url=" + url + ", user=" + user + ", password=" + (password.isEmpty() ? "<none>" : "<redacted>")
                    + ", maxPoolSize=" + maxPoolSize + "]";
        }
    }

    /**
     * The X.509 certificate authority. {@code joinDelay}: how long a server joining servers that already
     * sign publishes its own first authorities before signing with them (docs/authority.md).
     */
    public record CaSettings(KeyType keyType, Duration ttl, Optional<UpstreamSettings> upstream, Duration joinDelay) {
        public static final Duration DEFAULT_JOIN_DELAY = Duration.ofSeconds(15);

        public CaSettings(KeyType keyType, Duration ttl, Optional<UpstreamSettings> upstream) {
            this(keyType, ttl, upstream, DEFAULT_JOIN_DELAY);
        }

        public CaSettings {
            Objects.requireNonNull(keyType, "ca.key_type");
            positive("ca.ttl", ttl);
            Objects.requireNonNull(upstream, "ca.upstream");
            Objects.requireNonNull(joinDelay, "ca.join_delay");
            if (joinDelay.isNegative() || joinDelay.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new ConfigException("ca.join_delay is " + joinDelay.toSeconds() + "s; it must be 0s to 10m");
            }
        }
    }

    /** An upstream CA that signs this server's CA: its certificate, key and (optionally) root bundle files. */
    public record UpstreamSettings(Path certFile, Path keyFile, Optional<Path> bundleFile) {
        public UpstreamSettings {
            certFile = absolute("ca.upstream.cert_file", certFile);
            keyFile = absolute("ca.upstream.key_file", keyFile);
            bundleFile = Objects.requireNonNull(bundleFile, "ca.upstream.bundle_file").map(path -> absolute("ca.upstream.bundle_file", path));
        }
    }

    /** JWT-SVID signing keys. */
    public record JwtSettings(KeyType keyType, Duration keyTtl, Optional<URI> issuer) {
        public JwtSettings {
            Objects.requireNonNull(keyType, "jwt.key_type");
            positive("jwt.key_ttl", keyTtl);
            Objects.requireNonNull(issuer, "jwt.issuer");
            issuer.ifPresent(uri -> {
                if (!"https".equals(uri.getScheme()) || uri.getHost() == null || uri.getQuery() != null || uri.getFragment() != null) {
                    throw new ConfigException("jwt.issuer '" + uri + "' must be an https url with a host and no query or fragment");
                }
            });
        }
    }

    /** The admin API: always a Unix socket; optionally TCP with mutual TLS. */
    public record AdminSettings(Path socketPath, Optional<AdminTcpSettings> tcp) {
        public AdminSettings {
            socketPath = absolute("admin.socket_path", socketPath);
            Objects.requireNonNull(tcp, "admin.tcp");
        }
    }

    /** The admin API's mutual-TLS TCP listener. */
    public record AdminTcpSettings(String address, int port) {
        public AdminTcpSettings {
            requireAddress("admin.tcp.address", address);
            requirePort("admin.tcp.port", port);
        }
    }

    /**
     * The agent API: gRPC over TLS on TCP; agents authenticate with their X.509-SVID (every call but
     * Attest). {@code agentSvidTtl} defaults to {@code default_x509_svid_ttl}. How agents may attest is the
     * {@code node_attestors} section.
     */
    public record AgentApiSettings(String address, int port, Optional<Duration> agentSvidTtl) {
        public AgentApiSettings {
            requireAddress("agent_api.address", address);
            requirePort("agent_api.port", port);
            Objects.requireNonNull(agentSvidTtl, "agent_api.agent_svid_ttl");
            agentSvidTtl.ifPresent(ttl -> positive("agent_api.agent_svid_ttl", ttl));
        }
    }

    /**
     * The token service (OAuth 2.0 token exchange, introspection, revocation) on its own HTTPS listener.
     * {@code audience} is what JWT-SVIDs presented to it must carry; empty means the JWT issuer URL
     * followed by {@code /oauth2/token}. {@code defaultTtl} is the lifetime of an access token unless
     * policy caps it lower. {@code introspectors} may introspect every token (besides each token's
     * holder and audience, who always may).
     */
    public record TokenEndpointSettings(boolean enabled, String address, int port, Duration defaultTtl, Optional<String> audience,
                                        java.util.List<dev.sigil.core.spiffeid.SpiffeId> introspectors,
                                        dev.sigil.server.http.ListenerLimits limits) {
        public TokenEndpointSettings(boolean enabled, String address, int port, Duration defaultTtl, Optional<String> audience) {
            this(enabled, address, port, defaultTtl, audience, java.util.List.of(), dev.sigil.server.http.ListenerLimits.DEFAULTS);
        }

        public TokenEndpointSettings {
            introspectors = java.util.List.copyOf(introspectors);
            requireAddress("token_endpoint.address", address);
            requirePort("token_endpoint.port", port);
            positive("token_endpoint.default_ttl", defaultTtl);
            if (defaultTtl.toSeconds() < 1 || defaultTtl.compareTo(Duration.ofHours(24)) > 0) {
                throw new ConfigException("token_endpoint.default_ttl is " + Durations.format(defaultTtl)
                        + "; it must be between 1s and 24h");
            }
            Objects.requireNonNull(audience, "token_endpoint.audience");
            audience.ifPresent(value -> {
                if (value.isBlank() || value.chars().anyMatch(Character::isWhitespace)) {
                    throw new ConfigException("token_endpoint.audience '" + value + "' must be non-empty without spaces");
                }
            });
        }
    }

    /**
     * The audit trail: a signed checkpoint is taken every {@code checkpointEvery} records, or after
     * {@code checkpointInterval} when anything was appended since the last one. {@code jsonlFile}, when
     * set, receives a copy of every committed record as a JSON line. {@code hmacKeyFile}, when set, is the
     * key for keyed hashes of secrets, shared by every server on one datastore (default: a key of this
     * server's own in its data directory).
     */
    public record AuditSettings(int checkpointEvery, Duration checkpointInterval, Optional<Path> jsonlFile, Optional<Path> hmacKeyFile) {
        /** With this server's own hmac key. */
        public AuditSettings(int checkpointEvery, Duration checkpointInterval, Optional<Path> jsonlFile) {
            this(checkpointEvery, checkpointInterval, jsonlFile, Optional.empty());
        }

        public AuditSettings {
            Objects.requireNonNull(jsonlFile, "audit.jsonl_file");
            jsonlFile = jsonlFile.map(path -> absolute("audit.jsonl_file", path));
            Objects.requireNonNull(hmacKeyFile, "audit.hmac_key_file");
            hmacKeyFile = hmacKeyFile.map(path -> absolute("audit.hmac_key_file", path));
            if (checkpointEvery < 1) {
                throw new ConfigException("audit.checkpoint_every must be at least 1, got " + checkpointEvery);
            }
            positive("audit.checkpoint_interval", checkpointInterval);
        }
    }

    /** The public bundle endpoint (HTTPS, no client authentication). */
    public record BundleEndpointSettings(boolean enabled, String address, int port, Duration refreshHint,
                                         Optional<WebTlsSettings> webTls) {
        public BundleEndpointSettings {
            requireAddress("bundle_endpoint.address", address);
            requirePort("bundle_endpoint.port", port);
            positive("bundle_endpoint.refresh_hint", refreshHint);
            Objects.requireNonNull(webTls, "bundle_endpoint.web_tls");
        }
    }

    /** A web PKI certificate for the bundle endpoint (https_web profile) instead of the server's SVID. */
    public record WebTlsSettings(Path certFile, Path keyFile) {
        public WebTlsSettings {
            certFile = absolute("bundle_endpoint.web_tls.cert_file", certFile);
            keyFile = absolute("bundle_endpoint.web_tls.key_file", keyFile);
        }
    }

    static Path absolute(String key, Path path) {
        if (path == null) {
            throw new ConfigException(key + " is required");
        }
        return path.toAbsolutePath().normalize();
    }

    static void positive(String key, Duration duration) {
        if (duration == null) {
            throw new ConfigException(key + " is required");
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new ConfigException(key + " is " + Durations.format(duration) + "; it must be longer than zero");
        }
    }

    static void requirePort(String key, int port) {
        if (port < 0 || port > 65_535) {
            throw new ConfigException(key + " is " + port + "; use 1 to 65535 (or 0 for any free port)");
        }
    }

    static void requireAddress(String key, String address) {
        if (address == null || address.isBlank()) {
            throw new ConfigException(key + " is empty; use an ip address such as 127.0.0.1 or 0.0.0.0");
        }
    }
}
