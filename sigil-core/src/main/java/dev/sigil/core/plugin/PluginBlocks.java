package dev.sigil.core.plugin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The blocks of one plugin section as configured: type name → the plugin's bound settings record, in file
 * order. Holds no secret (plugins keep secrets in files until they are built).
 */
public record PluginBlocks(PluginKind kind, Map<String, Record> blocks) {
    public PluginBlocks {
        Objects.requireNonNull(kind, "kind");
        blocks = Collections.unmodifiableMap(new LinkedHashMap<>(blocks));
    }

    public static PluginBlocks none(PluginKind kind) {
        return new PluginBlocks(kind, Map.of());
    }

    /** The settings of plugin {@code type}, when configured. */
    public <S extends Record> Optional<S> settings(String type, Class<S> settingsType) {
        return Optional.ofNullable(blocks.get(type)).map(settingsType::cast);
    }
}
