package dev.sigil.server.plugin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The blocks of one plugin section as configured: type name → the plugin's bound settings record, in file
 * order. Holds no secret (plugins keep secrets in files until they are built).
 */
public record PluginBlocks(String section, Map<String, Record> blocks) {
    public PluginBlocks {
        Objects.requireNonNull(section, "section");
        blocks = Collections.unmodifiableMap(new LinkedHashMap<>(blocks));
    }

    public static PluginBlocks none(PluginKind kind) {
        return new PluginBlocks(kind.section(), Map.of());
    }

    /** The settings of plugin {@code type}, when configured. */
    public <S extends Record> java.util.Optional<S> settings(String type, Class<S> settingsType) {
        return java.util.Optional.ofNullable(blocks.get(type)).map(settingsType::cast);
    }
}
