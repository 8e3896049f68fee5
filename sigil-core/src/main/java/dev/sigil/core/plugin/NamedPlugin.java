package dev.sigil.core.plugin;

import java.util.Objects;

/**
 * The common part of a plugin: its type name and settings record, given once to the constructor. A plugin
 * extends this and implements its kind's interface (which supplies {@link #kind()} and the factory method).
 */
public abstract class NamedPlugin<S extends Record> implements Plugin<S> {
    private final String type;
    private final Class<S> settingsType;

    protected NamedPlugin(String type, Class<S> settingsType) {
        this.type = Objects.requireNonNull(type, "type");
        this.settingsType = Objects.requireNonNull(settingsType, "settingsType");
    }

    @Override
    public final String type() {
        return type;
    }

    @Override
    public final Class<S> settingsType() {
        return settingsType;
    }

    @Override
    public String toString() {
        return kind().singular() + " plugin " + type;
    }
}
