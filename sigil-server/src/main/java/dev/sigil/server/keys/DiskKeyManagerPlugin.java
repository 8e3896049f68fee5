package dev.sigil.server.keys;

import dev.sigil.core.plugin.NamedPlugin;
import java.nio.file.Path;
import java.util.Optional;

/** {@code key_manager.type: disk} (the default): keys in files under {@code dir} (default {@code <data_dir>/keys}, created 0700). */
public final class DiskKeyManagerPlugin extends NamedPlugin<DiskKeyManagerPlugin.Settings>
        implements KeyManagerPlugin<DiskKeyManagerPlugin.Settings> {
    public static final String TYPE = "disk";

    /** @param dir where the key files live; {@code null} for {@code <data_dir>/keys} */
    public record Settings(Path dir) {
        public Settings {
            dir = dir == null ? null : dir.toAbsolutePath().normalize();
        }

        /** The directory, {@code <dataDir>/keys} unless configured. */
        public Path directory(Path dataDir) {
            return Optional.ofNullable(dir).orElse(dataDir.resolve("keys"));
        }
    }

    public DiskKeyManagerPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public KeyManager create(Settings settings, Context context) {
        return KeyManagers.disk(settings.directory(context.dataDir()));
    }
}
