package dev.sigil.agent.attestor;

import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.Plugin;
import dev.sigil.core.plugin.PluginKind;

/**
 * The agent side of a node attestation method as a plugin: chosen by {@code node_attestor.type}, its
 * settings next to the type, built into the {@link NodeAttestorClient} the server's attestor of the same
 * type verifies. Registered in {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 */
public interface NodeAttestorClientPlugin<S extends Record> extends Plugin<S> {
    @Override
    default PluginKind kind() {
        return AgentPlugins.NODE_ATTESTOR;
    }

    /** Builds the client; reads its files (a key) and refuses bad settings naming the key. */
    NodeAttestorClient create(S settings);
}
