package dev.sigil.core.plugin;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a plugin section ({@code brokers:}) of a configuration file: each key names a plugin type, and its
 * block is bound to that plugin's settings record by the same parser, so a bad value is reported with its
 * line like any other key. A key naming no installed plugin is refused with the installed ones; a block
 * written without settings ({@code join_token:}) configures the plugin with its defaults. Registered on a
 * configuration mapper for {@link PluginBlocks} with the kinds that file may hold, told apart by section.
 */
public final class PluginBlocksDeserializer extends StdDeserializer<PluginBlocks> {
    private final PluginRegistry registry;
    private final Map<String, PluginKind> kinds = new LinkedHashMap<>();

    public PluginBlocksDeserializer(PluginRegistry registry, List<PluginKind> kinds) {
        super(PluginBlocks.class);
        this.registry = registry;
        kinds.forEach(kind -> this.kinds.put(kind.section(), kind));
    }

    /** The plugin sections' keys for the strict key check ({@code ConfigKeys}): section → type → settings record. */
    public static Map<String, Map<String, Class<?>>> sections(PluginRegistry registry, List<PluginKind> kinds) {
        Map<String, Map<String, Class<?>>> sections = new LinkedHashMap<>();
        for (PluginKind kind : kinds) {
            Map<String, Class<?>> types = new LinkedHashMap<>();
            registry.plugins(kind).forEach((type, plugin) -> types.put(type, plugin.settingsType()));
            sections.put(kind.section(), types);
        }
        return sections;
    }

    /** A block written without settings ({@code join_token:}): the plugin with every setting at its default. */
    private static Record defaults(JsonParser parser, Plugin<?> plugin) throws JsonMappingException {
        try {
            return ((ObjectMapper) parser.getCodec()).convertValue(Map.of(), plugin.settingsType());
        } catch (IllegalArgumentException e) {
            throw JsonMappingException.from(parser, String.valueOf(e.getMessage()), e);
        }
    }

    @Override
    public PluginBlocks deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        String section = parser.currentName();
        PluginKind kind = kinds.get(section);
        if (kind == null) {
            return context.reportInputMismatch(PluginBlocks.class, "%s is not a plugin section", section);
        }
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            return context.reportInputMismatch(PluginBlocks.class, "%s must be a mapping of plugin names to their settings", section);
        }
        Map<String, Plugin<?>> plugins = registry.plugins(kind);
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
        return new PluginBlocks(kind, blocks);
    }
}
