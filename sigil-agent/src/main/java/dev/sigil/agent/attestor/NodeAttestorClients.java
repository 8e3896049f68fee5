package dev.sigil.agent.attestor;

import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginException;
import dev.sigil.core.plugin.PluginRegistry;

/** Builds the node attestor client {@code node_attestor} chooses, by its plugin. */
public final class NodeAttestorClients {
    private NodeAttestorClients() {
    }

    public static NodeAttestorClient create(PluginChoice chosen, PluginRegistry registry) {
        NodeAttestorClientPlugin<?> plugin = registry.find(AgentPlugins.NODE_ATTESTOR, chosen.type(), NodeAttestorClientPlugin.class)
                .orElseThrow(() -> new PluginException("no node attestor plugin is named '" + chosen.type() + "'"));
        return build(plugin, chosen.settings());
    }

    private static <S extends Record> NodeAttestorClient build(NodeAttestorClientPlugin<S> plugin, Record settings) {
        return plugin.create(plugin.settingsType().cast(settings));
    }
}
