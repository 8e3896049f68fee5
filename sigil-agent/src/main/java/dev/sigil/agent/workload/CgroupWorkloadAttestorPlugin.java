package dev.sigil.agent.workload;

import dev.sigil.core.plugin.NamedPlugin;

/** The {@code cgroup} workload attestor plugin (see {@link WorkloadAttestor#cgroup}); no settings. */
public final class CgroupWorkloadAttestorPlugin extends NamedPlugin<CgroupWorkloadAttestorPlugin.Settings>
        implements WorkloadAttestorPlugin<CgroupWorkloadAttestorPlugin.Settings> {
    /** {@code workload_attestors.cgroup}: nothing to set. */
    public record Settings() {
    }

    public CgroupWorkloadAttestorPlugin() {
        super("cgroup", Settings.class);
    }

    @Override
    public WorkloadAttestor create(Settings settings, Context context) {
        return WorkloadAttestor.cgroup(context.procRoot());
    }
}
