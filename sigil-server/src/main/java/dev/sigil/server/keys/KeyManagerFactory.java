package dev.sigil.server.keys;

import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginException;
import dev.sigil.core.plugin.PluginRegistry;

/** Builds the key manager {@code key_manager} chooses, by its plugin. */
public final class KeyManagerFactory {
    private KeyManagerFactory() {
    }

    public static KeyManager create(PluginChoice chosen, PluginRegistry registry, KeyManagerPlugin.Context context) {
        KeyManagerPlugin<?> plugin = registry.find(chosen.kind(), chosen.type(), KeyManagerPlugin.class)
                .orElseThrow(() -> new PluginException("no key manager plugin is named '" + chosen.type() + "'"));
        return build(plugin, chosen.settings(), context);
    }

    private static <S extends Record> KeyManager build(KeyManagerPlugin<S> plugin, Record settings, KeyManagerPlugin.Context context) {
        return plugin.create(plugin.settingsType().cast(settings), context);
    }
}
