package dev.sigil.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.sigil.server.plugin.Plugin;
import dev.sigil.server.plugin.PluginBlocks;
import dev.sigil.server.plugin.PluginKind;
import dev.sigil.server.plugin.PluginRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Binds a plugin section ({@code brokers:}) from the file: each key names a plugin type, and its block is
 * bound to that plugin's settings record by the same parser, so a bad value is reported with its line like
 * any other key. A key naming no installed plugin is refused with the installed ones; a block written
 * without settings ({@code join_token:}) configures the plugin with its defaults.
 */
final class PluginBlocksDeserializer extends StdDeserializer<PluginBlocks> {
    private final PluginRegistry registry;

    PluginBlocksDeserializer(PluginRegistry registry) {
        super(PluginBlocks.class);
        this.registry = registry;
    }

    /** The plugin sections' keys for the strict key check ({@code ConfigKeys}): section → type → settings record. */
    static Map<String, Map<String, Class<?>>> sections(PluginRegistry registry, PluginKind... kinds) {
        Map<String, Map<String, Class<?>>> sections = new LinkedHashMap<>();
        for (PluginKind kind : kinds) {
            Map<String, Class<?>> types = new LinkedHashMap<>();
            registry.section(kind.section()).forEach((type, plugin) -> types.put(type, plugin.settingsType()));
            sections.put(kind.section(), types);
        }
        return sections;
    }

    /** A block written without settings ({@code join_token:}): the plugin with every setting at its default. */
    private static Record defaults(JsonParser parser, Plugin<?> plugin) throws JsonMappingException {
        try {
            return ((com.fasterxml.jackson.databind.ObjectMapper) parser.getCodec()).convertValue(Map.of(), plugin.settingsType());
        } catch (IllegalArgumentException e) {
            throw JsonMappingException.from(parser, String.valueOf(e.getMessage()), e);
        }
    }

    /**
     * Settings for plugin {@code type} of {@code kind} from plain values (keys in snake_case), for a block the
     * loader builds itself (an older spelling of the same setting); refused like a block in the file.
     */
    static Record settings(PluginRegistry registry, PluginKind kind, String type, Map<String, Object> values) {
        Plugin<?> plugin = registry.section(kind.section()).get(type);
        if (plugin == null) {
            throw new ConfigException(kind.section() + "." + type + " is not an installed " + kind.singular());
        }
        try {
            return ConfigFile.mapper(java.nio.file.Path.of("/"), java.nio.file.Path.of("/")).convertValue(values, plugin.settingsType());
        } catch (IllegalArgumentException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof ConfigException config) {
                    throw config;
                }
            }
            throw new ConfigException(kind.section() + "." + type + ": " + e.getMessage(), e);
        }
    }

    @Override
    public PluginBlocks deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        String section = parser.currentName();
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            return context.reportInputMismatch(PluginBlocks.class, "%s must be a mapping of plugin names to their settings", section);
        }
        Map<String, Plugin<?>> plugins = registry.section(section);
        Map<String, Record> blocks = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String type = parser.currentName();
            Plugin<?> plugin = plugins.get(type);
            if (plugin == null) {
                throw UnrecognizedPropertyException.from(parser, PluginBlocks.class, type, new ArrayList<>(plugins.keySet()));
            }
            JsonToken value = parser.nextToken();
            try {
                if (value == JsonToken.VALUE_NULL || (value == JsonToken.VALUE_STRING && parser.getText().isEmpty())) {
                    blocks.put(type, defaults(parser, plugin));
                } else {
                    blocks.put(type, context.readValue(parser, plugin.settingsType()));
                }
            } catch (JsonMappingException e) {
                throw JsonMappingException.wrapWithPath(e, blocks, type);
            }
        }
        return new PluginBlocks(section, blocks);
    }
}
