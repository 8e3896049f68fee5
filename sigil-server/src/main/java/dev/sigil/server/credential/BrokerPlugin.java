package dev.sigil.server.credential;

import dev.sigil.server.config.ServerPlugins;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.core.plugin.Plugin;
import dev.sigil.core.plugin.PluginKind;
import java.time.Clock;

/**
 * A credential broker as a plugin: configured under {@code brokers.<type>}, built into a {@link Broker}
 * that passes {@code BrokerContract}. Registered in {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 *
 * @param <S> the settings record of the broker's block; it must hold {@code default_ttl} and
 *            {@code max_ttl} (see {@link LeaseTtls}) next to the broker's own keys
 */
public interface BrokerPlugin<S extends Record> extends Plugin<S> {
    @Override
    default PluginKind kind() {
        return ServerPlugins.BROKERS;
    }

    /** The lifetimes of the broker's leases, from its settings. */
    LeaseTtls ttls(S settings);

    /** Builds the broker; may read secret files and connect to the backend. */
    Broker create(S settings, Context context);

    /** What the server gives every broker. */
    record Context(KeyManager keys, Clock clock) {
    }
}
