package dev.sigil.agent.workload;

/** The {@code cgroup} workload attestor plugin (see {@link WorkloadAttestor#cgroup}); no settings. */
public final class CgroupWorkloadAttestorPlugin implements WorkloadAttestorPlugin<CgroupWorkloadAttestorPlugin.Settings> {
    /** {@code workload_attestors.cgroup}: nothing to set. */
    public record Settings() {
    }

    @Override
    public String type() {
        return "cgroup";
    }

    @Override
    public Class<Settings> settingsType() {
        return Settings.class;
    }

    @Override
    public WorkloadAttestor create(Settings settings, Context context) {
        return WorkloadAttestor.cgroup(context.procRoot());
    }
}
