package dev.sigil.server.agent.attestor;

import dev.sigil.server.config.ServerPlugins;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginException;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;
import java.util.ArrayList;
import java.util.List;

/** Builds the node attestors the {@code node_attestors} section configures, each by its plugin. */
public final class NodeAttestors {
    private NodeAttestors() {
    }

    public static List<NodeAttestor> create(PluginBlocks configured, PluginRegistry registry, NodeAttestorPlugin.Context context) {
        List<NodeAttestor> attestors = new ArrayList<>();
        configured.blocks().forEach((type, settings) -> {
            NodeAttestorPlugin<?> plugin = registry.find(ServerPlugins.NODE_ATTESTORS, type, NodeAttestorPlugin.class)
                    .orElseThrow(() -> new PluginException("no node attestor plugin is named '" + type + "'"));
            attestors.add(build(plugin, settings, context));
        });
        return attestors;
    }

    private static <S extends Record> NodeAttestor build(NodeAttestorPlugin<S> plugin, Record settings, NodeAttestorPlugin.Context context) {
        return plugin.create(plugin.settingsType().cast(settings), context);
    }
}
