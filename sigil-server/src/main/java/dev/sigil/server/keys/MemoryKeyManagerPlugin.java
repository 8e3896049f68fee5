package dev.sigil.server.keys;

import dev.sigil.core.plugin.NamedPlugin;

/** {@code key_manager.type: memory}: keys only in memory, lost at every restart (development and tests); no settings. */
public final class MemoryKeyManagerPlugin extends NamedPlugin<MemoryKeyManagerPlugin.Settings>
        implements KeyManagerPlugin<MemoryKeyManagerPlugin.Settings> {
    public record Settings() {
    }

    public MemoryKeyManagerPlugin() {
        super("memory", Settings.class);
    }

    @Override
    public KeyManager create(Settings settings, Context context) {
        return KeyManagers.memory();
    }
}
