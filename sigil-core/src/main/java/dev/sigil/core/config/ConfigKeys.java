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
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return Optional.empty();
        }
        return check(parser, known(rootType), "", file, scalarRecords, pluginSections);
    }

    private static Map<String, Class<?>> known(Class<?> type) {
        Map<String, Class<?>> known = new TreeMap<>();
        for (RecordComponent component : type.getRecordComponents()) {
            known.put(SNAKE_CASE.translate(component.getName()), component.getType());
        }
        return known;
    }

    private static Optional<String> check(JsonParser parser, Map<String, Class<?>> known, String parent, Path file,
                                          Set<Class<?>> scalarRecords, Map<String, Map<String, Class<?>>> pluginSections)
            throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            JsonLocation location = parser.currentTokenLocation();
            Class<?> valueType = known.get(key);
            if (valueType == null) {
                return Optional.of(file + " line " + location.getLineNr() + ", column " + location.getColumnNr()
                        + ": unknown key '" + key + "'" + (parent.isEmpty() ? "" : " under '" + parent + "'")
                        + "; valid keys: " + String.join(", ", known.keySet()));
            }
            JsonToken value = parser.nextToken();
            String path = parent.isEmpty() ? key : parent + "." + key;
            if (value == JsonToken.START_OBJECT && pluginSections.containsKey(path)) {
                Optional<String> nested = check(parser, new TreeMap<>(pluginSections.get(path)), path, file, scalarRecords, pluginSections);
                if (nested.isPresent()) {
                    return nested;
                }
            } else if (value == JsonToken.START_OBJECT && valueType.isRecord() && !scalarRecords.contains(valueType)) {
                Optional<String> nested = check(parser, known(valueType), path, file, scalarRecords, pluginSections);
                if (nested.isPresent()) {
                    return nested;
                }
            } else {
                parser.skipChildren();
            }
        }
        return Optional.empty();
    }
}
