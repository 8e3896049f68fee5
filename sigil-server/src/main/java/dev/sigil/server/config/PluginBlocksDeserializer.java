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
 * any other key. A key naming no installed plugin is refused with the installed ones; an empty block
 * ({@code ssh:} with nothing under it) configures nothing, as before plugins had registries.
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
            if (value == JsonToken.VALUE_NULL || (value == JsonToken.VALUE_STRING && parser.getText().isEmpty())) {
                continue;
            }
            try {
                blocks.put(type, context.readValue(parser, plugin.settingsType()));
            } catch (JsonMappingException e) {
                throw JsonMappingException.wrapWithPath(e, blocks, type);
            }
        }
        return new PluginBlocks(section, blocks);
    }
}
