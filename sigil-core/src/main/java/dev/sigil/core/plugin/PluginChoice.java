package dev.sigil.core.plugin;

import java.util.Objects;

/**
 * A section that configures exactly one plugin of its kind, chosen by a {@code type} key next to that
 * plugin's settings ({@code key_manager: {type: disk, dir: /var/lib/sigil/keys}}), as configuration files
 * spelled it before plugins had registries.
 *
 * @param type     the chosen plugin's type name
 * @param settings the chosen plugin's bound settings record
 */
public record PluginChoice(PluginKind kind, String type, Record settings) {
    public PluginChoice {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(settings, "settings");
    }

    /** The settings, as the chosen plugin's settings type. */
    public <S extends Record> S settings(Class<S> settingsType) {
        return settingsType.cast(settings);
    }
}
