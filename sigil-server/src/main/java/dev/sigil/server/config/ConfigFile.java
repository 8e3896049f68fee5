package dev.sigil.server.config;

import dev.sigil.core.time.Durations;
import com.fasterxml.jackson.core.JsonParser;
import dev.sigil.core.config.ConfigKeys;
import dev.sigil.core.config.ConfigValues;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginBlocksDeserializer;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginChoiceDeserializer;
import dev.sigil.core.plugin.PluginRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

/**
 * The configuration file exactly as written: every key optional (null when absent), values already
 * typed by deserializers that report the line of a bad value. Defaults are applied later by
 * {@link ServerConfigLoader}.
 */
final class ConfigFile {
    private ConfigFile() {
    }

    enum DatastoreType { SQLITE, POSTGRESQL }


    record Root(Path dataDir, TrustDomain trustDomain, ServerConfig.LogLevel logLevel, Datastore datastore,
                PluginChoice keyManager, Ca ca, Jwt jwt, Duration defaultX509SvidTtl, Duration defaultJwtSvidTtl,
                Admin admin, BundleEndpoint bundleEndpoint, AgentApi agentApi, TokenEndpoint tokenEndpoint, Audit audit,
                PluginBlocks brokers, PluginBlocks nodeAttestors) {
        static Root empty() {
            return new Root(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    record Audit(Integer checkpointEvery, Duration checkpointInterval, Path jsonlFile) {
    }

    record Datastore(DatastoreType type, Path file, String url, String user, String password, Integer maxPoolSize) {
        @Override
        public String toString() {
            return "Datastore[type=" + type + ", url=" + url + ", password=" + (password == null ? "<none>" : "<redacted>") + "]";
        }
    }


    record Ca(KeyType keyType, Duration ttl, Upstream upstream) {
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

    /** A mapper for one file: relative paths resolve against {@code baseDir}, {@code ~/} against the home directory. */
    static ObjectMapper mapper(Path baseDir, Path userHome) {
        SimpleModule values = new SimpleModule("sigil-config");
        values.addDeserializer(Duration.class, ConfigValues.scalar(Durations::parse));
        values.addDeserializer(KeyType.class, ConfigValues.scalar(KeyType::parse));
        values.addDeserializer(TrustDomain.class, ConfigValues.scalar(TrustDomain::parse));
        values.addDeserializer(ServerConfig.LogLevel.class, ConfigValues.scalar(ServerConfig.LogLevel::parse));
        values.addDeserializer(DatastoreType.class, ConfigValues.scalar(text -> oneOf(DatastoreType.class, "datastore type", text)));
        values.addDeserializer(PluginChoice.class, new PluginChoiceDeserializer(PluginRegistry.installed(), ServerPlugins.CHOICES));
        values.addDeserializer(URI.class, ConfigValues.scalar(ConfigFile::uri));
        values.addDeserializer(Path.class, ConfigValues.scalar(text -> path(text, baseDir, userHome)));
        values.addDeserializer(PluginBlocks.class, new PluginBlocksDeserializer(PluginRegistry.installed(), ServerPlugins.ALL));
        return JsonMapper.builder(YAMLFactory.builder().build())
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(values)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    static Path path(String text, Path baseDir, Path userHome) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("path is empty");
        }
        Path path = text.equals("~") ? userHome : text.startsWith("~/") ? userHome.resolve(text.substring(2)) : Path.of(text);
        return baseDir.resolve(path).toAbsolutePath().normalize();
    }

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

    /** Refuses the first unknown key with its line (see {@link ConfigKeys}). */
    static void checkKeys(JsonParser parser, Path file) throws IOException {
        Optional<String> unknown = ConfigKeys.firstUnknownKey(parser, Root.class, file, Set.of(),
                PluginBlocksDeserializer.sections(PluginRegistry.installed(), ServerPlugins.ALL),
                PluginChoiceDeserializer.choices(PluginRegistry.installed(), ServerPlugins.CHOICES));
        if (unknown.isPresent()) {
            throw new ConfigException(unknown.get());
        }
    }
}
