package dev.sigil.agent.workload;

import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.Plugin;
import dev.sigil.core.plugin.PluginKind;
import java.nio.file.Path;

/**
 * A workload attestor as a plugin: configured under {@code workload_attestors.<type>} in the agent's
 * configuration, built into a {@link WorkloadAttestor} whose selectors are all of its {@link #type()}.
 * Registered in {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 */
public interface WorkloadAttestorPlugin<S extends Record> extends Plugin<S> {
    @Override
    default PluginKind kind() {
        return AgentPlugins.WORKLOAD_ATTESTORS;
    }

    WorkloadAttestor create(S settings, Context context);

    /**
     * What the agent gives every workload attestor.
     *
     * @param procRoot the procfs root, normally {@code /proc}
     * @param etcRoot  where {@code passwd} and {@code group} are read, normally {@code /etc}
     */
    record Context(Path procRoot, Path etcRoot) {
    }
}
