package dev.sigil.agent.workload;

import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginException;
import dev.sigil.core.plugin.PluginRegistry;
import java.util.ArrayList;
import java.util.List;

/** Builds the workload attestors the {@code workload_attestors} section configures, each by its plugin, in file order. */
public final class WorkloadAttestors {
    private WorkloadAttestors() {
    }

    public static List<WorkloadAttestor> create(PluginBlocks configured, PluginRegistry registry, WorkloadAttestorPlugin.Context context) {
        List<WorkloadAttestor> attestors = new ArrayList<>();
        configured.blocks().forEach((type, settings) -> {
            WorkloadAttestorPlugin<?> plugin = registry.find(AgentPlugins.WORKLOAD_ATTESTORS, type, WorkloadAttestorPlugin.class)
                    .orElseThrow(() -> new PluginException("no workload attestor plugin is named '" + type + "'"));
            attestors.add(build(plugin, settings, context));
        });
        return attestors;
    }

    private static <S extends Record> WorkloadAttestor build(WorkloadAttestorPlugin<S> plugin, Record settings,
                                                             WorkloadAttestorPlugin.Context context) {
        return plugin.create(plugin.settingsType().cast(settings), context);
    }
}
