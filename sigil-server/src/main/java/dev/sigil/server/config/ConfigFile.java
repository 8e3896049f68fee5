package dev.sigil.server.config;

import dev.sigil.core.config.ConfigValues;
import dev.sigil.core.config.YamlConfigFile;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.observability.LogFormat;
import dev.sigil.core.observability.MetricsListenerSettings;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.spiffeid.TrustDomain;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;


/**
 * The configuration file exactly as written: every key optional (null when absent), values already
 * typed by deserializers that report the line of a bad value ({@link YamlConfigFile}, the format the
 * agent's file shares). Defaults are applied later by {@link ServerConfigLoader}.
 */
final class ConfigFile {
    private ConfigFile() {
    }

    enum DatastoreType { SQLITE, POSTGRESQL }


    record Root(Path dataDir, TrustDomain trustDomain, ServerConfig.LogLevel logLevel, Datastore datastore,
                PluginChoice keyManager, Ca ca, Jwt jwt, Duration defaultX509SvidTtl, Duration defaultJwtSvidTtl,
                Admin admin, BundleEndpoint bundleEndpoint, AgentApi agentApi, TokenEndpoint tokenEndpoint, Audit audit,
                PluginBlocks brokers, PluginBlocks nodeAttestors, LogFormat logFormat, MetricsListenerSettings.Block metrics,
                Governance governance) {
        static Root empty() {
            return new Root(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    record Governance(java.util.List<String> owners, Duration staleAfter, Duration maxCredentialTtl, Duration maxSvidTtl,
                      Integer renewalHeadroomPercent, Integer reuseMaxNodes, Integer reuseMaxBinaries,
                      java.util.List<String> productionIds, java.util.Map<String, java.util.List<String>> environments,
                      Integer maxAuditRecords) {
    }

    record Audit(Integer checkpointEvery, Duration checkpointInterval, Path jsonlFile, Path hmacKeyFile) {
    }

    record Datastore(DatastoreType type, Path file, String url, String user, String password, Integer maxPoolSize) {
        @Override
        public String toString() {
            return "Datastore[type=" + type + ", url=" + url + ", password=" + (password == null ? "<none>" : "<redacted>") + "]";
        }
    }


    record Ca(KeyType keyType, Duration ttl, Upstream upstream, Duration joinDelay) {
    }

    record Upstream(Path certFile, Path keyFile, Path bundleFile) {
    }

    record Jwt(KeyType keyType, Duration keyTtl, URI issuer) {
    }

    record Admin(Path socketPath, AdminTcp tcp) {
    }

    record AdminTcp(String address, Integer port) {
    }

    record BundleEndpoint(Boolean enabled, String address, Integer port, Duration refreshHint, WebTls webTls) {
    }

    record WebTls(Path certFile, Path keyFile) {
    }

    record AgentApi(String address, Integer port, Duration agentSvidTtl, X509Pop x509pop) {
    }

    record X509Pop(Path caBundleFile) {
    }

    record TokenEndpoint(Boolean enabled, String address, Integer port, Duration defaultTtl, String audience, java.util.List<String> introspectors,
                         Duration idleTimeout, Duration requestTimeout, Integer maxConnections) {
    }

    /** The server's file format: {@link Root}, its own value types, and the server's plugin kinds. */
    static final YamlConfigFile<Root> FORMAT = new YamlConfigFile<>(Root.class, Root.empty(), Set.of(), ServerPlugins.ALL,
            ServerPlugins.CHOICES, values -> {
                values.addDeserializer(KeyType.class, ConfigValues.scalar(KeyType::parse));
                values.addDeserializer(LogFormat.class, ConfigValues.scalar(LogFormat::parse));
                values.addDeserializer(ServerConfig.LogLevel.class, ConfigValues.scalar(ServerConfig.LogLevel::parse));
                values.addDeserializer(DatastoreType.class, ConfigValues.scalar(text -> oneOf(DatastoreType.class, "datastore type", text)));
                values.addDeserializer(URI.class, ConfigValues.scalar(ConfigFile::uri));
            }, ConfigException::new);

    private static URI uri(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a url: " + e.getReason());
        }
    }

    static <E extends Enum<E>> E oneOf(Class<E> type, String what, String text) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(text.trim())) {
                return constant;
            }
        }
        StringBuilder valid = new StringBuilder();
        for (E constant : type.getEnumConstants()) {
            valid.append(valid.isEmpty() ? "" : " or ").append(constant.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(what + " '" + text + "' is not valid; use " + valid);
    }
}
