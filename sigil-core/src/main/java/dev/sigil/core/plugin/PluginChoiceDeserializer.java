package dev.sigil.core.plugin;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import dev.sigil.core.config.ConfigKeys;

/**
 * Binds a {@link PluginChoice} section: its {@code type} key names the plugin and the other keys are bound to
 * that plugin's settings record. The keys were already checked with their lines ({@code ConfigKeys}); a bad
 * value is reported by its key. Registered on a configuration mapper with the
 * choice kinds that file may hold, told apart by section.
 */
public final class PluginChoiceDeserializer extends StdDeserializer<PluginChoice> {
    private final PluginRegistry registry;
    private final Map<String, PluginKind> kinds = new LinkedHashMap<>();
    private final Map<String, String> defaultTypes = new LinkedHashMap<>();

    /** @param kinds each choice kind the file may hold, with the type chosen when its {@code type} key is absent */
    public PluginChoiceDeserializer(PluginRegistry registry, Map<PluginKind, Optional<String>> kinds) {
        super(PluginChoice.class);
        this.registry = registry;
        kinds.forEach((kind, defaultType) -> {
            this.kinds.put(kind.section(), kind);
            defaultType.ifPresent(type -> defaultTypes.put(kind.section(), type));
        });
    }

    /** The choice sections for the strict key check ({@code ConfigKeys}). */
    public static Map<String, ConfigKeys.Choice> choices(PluginRegistry registry, Map<PluginKind, Optional<String>> kinds) {
        Map<String, ConfigKeys.Choice> choices = new LinkedHashMap<>();
        kinds.forEach((kind, defaultType) -> {
            Map<String, Class<?>> types = new LinkedHashMap<>();
            registry.plugins(kind).forEach((type, plugin) -> types.put(type, plugin.settingsType()));
            choices.put(kind.section(), new ConfigKeys.Choice(defaultType, types));
        });
        return choices;
    }

    /**
     * The chosen plugin with its settings from plain values (keys in snake_case), for a choice the loader makes
     * itself (a default); {@code mapper} is the configuration file's.
     */
    public static PluginChoice choose(PluginRegistry registry, PluginKind kind, String type, Map<String, Object> values, ObjectMapper mapper) {
        Plugin<?> plugin = registry.plugins(kind).get(type);
        if (plugin == null) {
            throw new PluginException(kind.section() + ".type '" + type + "' is not an installed " + kind.singular() + "; installed: "
                    + String.join(", ", registry.plugins(kind).keySet()));
        }
        return new PluginChoice(kind, type, mapper.convertValue(values, plugin.settingsType()));
    }

    @Override
    public PluginChoice deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        String section = parser.currentName();
        PluginKind kind = kinds.get(section);
        JsonLocation at = parser.currentTokenLocation();
        if (kind == null) {
            return context.reportInputMismatch(PluginChoice.class, "%s is not a plugin section", section);
        }
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            return context.reportInputMismatch(PluginChoice.class, "%s must be a mapping with a type and its settings", section);
        }
        JsonNode tree = context.readTree(parser);
        if (!(tree instanceof ObjectNode block)) {
            return context.reportInputMismatch(PluginChoice.class, "%s must be a mapping with a type and its settings", section);
        }
        JsonNode typeNode = block.remove("type");
        Map<String, Plugin<?>> plugins = registry.plugins(kind);
        String type = typeNode == null ? defaultTypes.get(section) : typeNode.isTextual() ? typeNode.asText().trim() : null;
        if (type == null) {
            throw refused(section + ".type is required: " + String.join(" or ", plugins.keySet()), at);
        }
        Plugin<?> plugin = plugins.get(type);
        if (plugin == null) {
            throw refused(section + ".type '" + type + "' is not valid; use " + String.join(" or ", plugins.keySet()), at);
        }
        // the tree has no lines: a bad value is reported by its key (the keys themselves were checked with lines)
        return new PluginChoice(kind, type, ((ObjectMapper) parser.getCodec()).treeToValue(block, plugin.settingsType()));
    }

    /** A refusal whose message the configuration loaders show as is (the cause is a {@link PluginException}). */
    private static JsonMappingException refused(String message, JsonLocation at) {
        @SuppressWarnings("deprecation") // the one constructor taking both a location and a cause
        JsonMappingException refusal = new JsonMappingException(message, at, new PluginException(message));
        return refusal;
    }
}
