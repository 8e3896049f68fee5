package dev.sigil.agent.workload;

/** The {@code unix} workload attestor plugin (see {@link WorkloadAttestor#unix}); no settings. */
public final class UnixWorkloadAttestorPlugin implements WorkloadAttestorPlugin<UnixWorkloadAttestorPlugin.Settings> {
    /** {@code workload_attestors.unix}: nothing to set. */
    public record Settings() {
    }

    @Override
    public String type() {
        return "unix";
    }

    @Override
    public Class<Settings> settingsType() {
        return Settings.class;
    }

    @Override
    public WorkloadAttestor create(Settings settings, Context context) {
        return WorkloadAttestor.unix(context.procRoot(), context.etcRoot());
    }
}
