package dev.sigil.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Strict key checking for configuration files bound to records: every key must name a record
 * component (in snake_case), checked with the parser's own line and column before Jackson binds the
 * values (Jackson buffers a record's properties and would report an unknown key after the whole
 * mapping, without its line). Shared by the server's and the agent's configuration loaders.
 */
public final class ConfigKeys {
    private static final PropertyNamingStrategies.NamingBase SNAKE_CASE =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

    private ConfigKeys() {
    }

    /**
     * The first unknown key, as a one-line message naming the file, line, column, the key and the valid
     * keys; empty when every key is known. Record-typed values are checked recursively, except the
     * {@code scalarRecords}, which are parsed from a single value (like {@code host:port}).
     */
    public static Optional<String> firstUnknownKey(JsonParser parser, Class<?> rootType, Path file, Set<Class<?>> scalarRecords)
            throws IOException {
        return firstUnknownKey(parser, rootType, file, scalarRecords, Map.of());
    }

    /**
     * As {@link #firstUnknownKey(JsonParser, Class, Path, Set)}, with plugin sections: under each key of
     * {@code pluginSections} (a dotted key such as {@code brokers}), the keys are plugin type names, each
     * mapped to the record its block binds to, checked recursively like any other record.
     */
    public static Optional<String> firstUnknownKey(JsonParser parser, Class<?> rootType, Path file, Set<Class<?>> scalarRecords,
                                                   Map<String, Map<String, Class<?>>> pluginSections) throws IOException {
        return firstUnknownKey(parser, rootType, file, scalarRecords, pluginSections, Map.of());
    }

    /**
     * A section that configures one plugin chosen by its {@code type} key (the default type when absent):
     * the valid keys are {@code type} and the chosen plugin's settings. A missing or unknown type is left
     * to the binding, which names the valid types.
     */
    public record Choice(Optional<String> defaultType, Map<String, Class<?>> types) {
    }

    /** As above, with plugin choice sections (a dotted key such as {@code key_manager} → its {@link Choice}). */
    public static Optional<String> firstUnknownKey(JsonParser parser, Class<?> rootType, Path file, Set<Class<?>> scalarRecords,
                                                   Map<String, Map<String, Class<?>>> pluginSections, Map<String, Choice> choices)
            throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return Optional.empty();
        }
        return new Walk(file, scalarRecords, pluginSections, choices).check(parser, known(rootType), "");
    }

    private static Map<String, Class<?>> known(Class<?> type) {
        Map<String, Class<?>> known = new TreeMap<>();
        for (RecordComponent component : type.getRecordComponents()) {
            known.put(SNAKE_CASE.translate(component.getName()), component.getType());
        }
        return known;
    }

    private record Walk(Path file, Set<Class<?>> scalarRecords, Map<String, Map<String, Class<?>>> pluginSections,
                        Map<String, Choice> choices) {

        Optional<String> check(JsonParser parser, Map<String, Class<?>> known, String parent) throws IOException {
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonLocation location = parser.currentTokenLocation();
                Class<?> valueType = known.get(key);
                if (valueType == null) {
                    return Optional.of(unknown(location, key, parent, known.keySet()));
                }
                JsonToken value = parser.nextToken();
                String path = parent.isEmpty() ? key : parent + "." + key;
                Optional<String> nested = Optional.empty();
                if (value == JsonToken.START_OBJECT && choices.containsKey(path)) {
                    nested = checkChoice(parser, choices.get(path), path);
                } else if (value == JsonToken.START_OBJECT && pluginSections.containsKey(path)) {
                    nested = check(parser, new TreeMap<>(pluginSections.get(path)), path);
                } else if (value == JsonToken.START_OBJECT && valueType.isRecord() && !scalarRecords.contains(valueType)) {
                    nested = check(parser, known(valueType), path);
                } else {
                    parser.skipChildren();
                }
                if (nested.isPresent()) {
                    return nested;
                }
            }
            return Optional.empty();
        }

        /** The keys of a choice section, checked once its type is known (the type may come after them). */
        private Optional<String> checkChoice(JsonParser parser, Choice choice, String path) throws IOException {
            Map<String, JsonLocation> keys = new java.util.LinkedHashMap<>();
            String type = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                keys.putIfAbsent(key, parser.currentTokenLocation());
                JsonToken value = parser.nextToken();
                if (key.equals("type") && value.isScalarValue()) {
                    type = parser.getText();
                } else {
                    parser.skipChildren();
                }
            }
            Class<?> settings = choice.types().get(type != null ? type : choice.defaultType().orElse(""));
            if (settings == null) {
                return Optional.empty();
            }
            Map<String, Class<?>> valid = known(settings);
            valid.put("type", String.class);
            for (Map.Entry<String, JsonLocation> key : keys.entrySet()) {
                if (!valid.containsKey(key.getKey())) {
                    return Optional.of(unknown(key.getValue(), key.getKey(), path, valid.keySet()));
                }
            }
            return Optional.empty();
        }

        private String unknown(JsonLocation location, String key, String parent, java.util.Collection<String> valid) {
            return file + " line " + location.getLineNr() + ", column " + location.getColumnNr()
                    + ": unknown key '" + key + "'" + (parent.isEmpty() ? "" : " under '" + parent + "'")
                    + "; valid keys: " + String.join(", ", new java.util.TreeSet<>(valid));
        }
    }
}
