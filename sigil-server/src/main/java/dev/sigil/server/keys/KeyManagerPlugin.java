package dev.sigil.server.keys;

import dev.sigil.core.plugin.Plugin;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.server.config.ServerPlugins;
import java.nio.file.Path;

/**
 * A key manager as a plugin: chosen by {@code key_manager.type}, its settings next to the type, built into a
 * {@link KeyManager} that passes the key manager contract test. Exactly one runs. Registered in
 * {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 */
public interface KeyManagerPlugin<S extends Record> extends Plugin<S> {
    @Override
    default PluginKind kind() {
        return ServerPlugins.KEY_MANAGER;
    }

    KeyManager create(S settings, Context context);

    /** What the server gives its key manager: the data directory, under which defaults live. */
    record Context(Path dataDir) {
    }
}
