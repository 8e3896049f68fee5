package dev.sigil.agent.config;

import dev.sigil.core.time.Durations;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import dev.sigil.core.config.ConfigKeys;
import dev.sigil.core.config.ConfigValues;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginBlocksDeserializer;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginChoiceDeserializer;
import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

/**
 * The agent configuration file exactly as written: every key optional (null when absent), values typed
 * by deserializers that report the line of a bad value. Defaults are applied by {@link AgentConfigLoader}.
 */
final class AgentConfigFile {

    private AgentConfigFile() {
    }

    record Root(Path dataDir, TrustDomain trustDomain, AgentConfig.ServerAddress serverAddress, Path trustBundlePath,
                Boolean insecureBootstrap, PluginChoice nodeAttestor, WorkloadApi workloadApi, Duration syncInterval,
                AgentConfig.LogLevel logLevel, Duration workloadReattestInterval, PluginBlocks workloadAttestors) {
        static Root empty() {
            return new Root(null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    record WorkloadApi(Path socketPath) {
    }

    static ObjectMapper mapper(Path baseDir, Path userHome) {
        SimpleModule values = new SimpleModule("sigil-agent-config");
        values.addDeserializer(Duration.class, ConfigValues.scalar(Durations::parse));
        values.addDeserializer(TrustDomain.class, ConfigValues.scalar(TrustDomain::parse));
        values.addDeserializer(AgentConfig.LogLevel.class, ConfigValues.scalar(AgentConfig.LogLevel::parse));
        values.addDeserializer(AgentConfig.ServerAddress.class, ConfigValues.scalar(AgentConfig.ServerAddress::parse));
        values.addDeserializer(Path.class, ConfigValues.scalar(text -> path(text, baseDir, userHome)));
        values.addDeserializer(PluginBlocks.class, new PluginBlocksDeserializer(PluginRegistry.installed(), AgentPlugins.ALL));
        values.addDeserializer(PluginChoice.class, new PluginChoiceDeserializer(PluginRegistry.installed(), AgentPlugins.CHOICES));
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

    /** Refuses the first unknown key with its line (see {@link ConfigKeys}). */
    static void checkKeys(JsonParser parser, Path file) throws IOException {
        Optional<String> unknown = ConfigKeys.firstUnknownKey(parser, Root.class, file, Set.of(AgentConfig.ServerAddress.class),
                PluginBlocksDeserializer.sections(PluginRegistry.installed(), AgentPlugins.ALL),
                PluginChoiceDeserializer.choices(PluginRegistry.installed(), AgentPlugins.CHOICES));
        if (unknown.isPresent()) {
            throw new AgentConfigException(unknown.get());
        }
    }

    /** One-line message for a Jackson failure: file, line, key and what was wrong. */
    static AgentConfigException describe(Path file, JsonProcessingException e) {
        JsonLocation location = e.getLocation();
        String where = file + (location == null || location.getLineNr() < 1 ? ""
                : " line " + location.getLineNr() + ", column " + location.getColumnNr());
        String message;
        Throwable cause = e.getCause();
        while (cause != null && !(cause instanceof AgentConfigException) && !(cause instanceof dev.sigil.core.plugin.PluginException)) {
            cause = cause.getCause();
        }
        if (cause != null) {
            // a plugin's settings refused a value while its block was bound: the message names the key
            message = cause.getMessage();
        } else if (e instanceof ConfigValues.InvalidValueException invalid) {
            message = "key '" + key(invalid) + "': " + invalid.getOriginalMessage();
        } else if (e instanceof MismatchedInputException mismatch) {
            String key = key(mismatch);
            message = key.isEmpty() ? "the configuration must be a mapping of keys to values" : "key '" + key + "' has a value of the wrong kind";
        } else if (e instanceof JsonMappingException mapping) {
            message = "key '" + key(mapping) + "': value is not valid here";
        } else {
            message = "not valid yaml: " + String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("");
        }
        return new AgentConfigException(where + ": " + message, e);
    }

    private static String key(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getFieldName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(reference.getFieldName());
            }
        }
        return out.toString();
    }
}
