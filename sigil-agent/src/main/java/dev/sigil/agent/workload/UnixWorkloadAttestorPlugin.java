package dev.sigil.agent.workload;

import dev.sigil.core.plugin.NamedPlugin;

/** The {@code unix} workload attestor plugin (see {@link WorkloadAttestor#unix}); no settings. */
public final class UnixWorkloadAttestorPlugin extends NamedPlugin<UnixWorkloadAttestorPlugin.Settings>
        implements WorkloadAttestorPlugin<UnixWorkloadAttestorPlugin.Settings> {
    /** {@code workload_attestors.unix}: nothing to set. */
    public record Settings() {
    }

    public UnixWorkloadAttestorPlugin() {
        super("unix", Settings.class);
    }

    @Override
    public WorkloadAttestor create(Settings settings, Context context) {
        return WorkloadAttestor.unix(context.procRoot(), context.etcRoot());
    }
}
