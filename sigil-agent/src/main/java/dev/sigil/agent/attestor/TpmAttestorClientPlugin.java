package dev.sigil.agent.attestor;

import dev.sigil.agent.config.AgentConfigException;
import dev.sigil.core.plugin.NamedPlugin;

/**
 * {@code node_attestor.type: tpm}: the node's TPM 2.0 through tpm2-tools; {@code tcti} names it
 * (default {@code device:/dev/tpmrm0}, the kernel's resource manager).
 */
public final class TpmAttestorClientPlugin extends NamedPlugin<TpmAttestorClientPlugin.Settings>
        implements NodeAttestorClientPlugin<TpmAttestorClientPlugin.Settings> {
    public static final String TYPE = TpmAttestorClient.TYPE;
    static final String DEFAULT_TCTI = "device:/dev/tpmrm0";

    public record Settings(String tcti) {
        public Settings {
            tcti = tcti == null || tcti.isBlank() ? DEFAULT_TCTI : tcti.strip();
        }
    }

    /** {@code node_attestor} choosing the tpm named by {@code tcti}. */
    public static dev.sigil.core.plugin.PluginChoice choice(String tcti) {
        return new dev.sigil.core.plugin.PluginChoice(dev.sigil.agent.config.AgentPlugins.NODE_ATTESTOR, TYPE, new Settings(tcti));
    }

    public TpmAttestorClientPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestorClient create(Settings settings) {
        try {
            return new TpmAttestorClient(new TpmTools(settings.tcti()));
        } catch (IllegalArgumentException e) {
            throw new AgentConfigException("node_attestor type tpm: " + e.getMessage());
        }
    }
}
