package dev.sigil.server.keys;

/** {@code key_manager.type: memory}: keys only in memory, lost at every restart (development and tests); no settings. */
public final class MemoryKeyManagerPlugin implements KeyManagerPlugin<MemoryKeyManagerPlugin.Settings> {
    public record Settings() {
    }

    @Override
    public String type() {
        return "memory";
    }

    @Override
    public Class<Settings> settingsType() {
        return Settings.class;
    }

    @Override
    public KeyManager create(Settings settings, Context context) {
        return KeyManagers.memory();
    }
}
