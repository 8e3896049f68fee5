package dev.sigil.server.agent.attestor;

import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.server.config.ConfigException;
import java.nio.file.Path;

/** The {@code x509pop} node attestor plugin: node certificates under a configured CA bundle, with proof of possession. */
public final class X509PopAttestorPlugin extends NamedPlugin<X509PopAttestorPlugin.Settings>
        implements NodeAttestorPlugin<X509PopAttestorPlugin.Settings> {
    public static final String TYPE = "x509pop";

    /** {@code node_attestors.x509pop}: {@code ca_bundle_file}, the PEM CA certificates node certificates must chain to. */
    public record Settings(Path caBundleFile) {
        public Settings {
            if (caBundleFile == null) {
                throw new ConfigException("node_attestors.x509pop needs ca_bundle_file (pem node ca certificates)");
            }
            caBundleFile = caBundleFile.toAbsolutePath().normalize();
        }
    }

    public X509PopAttestorPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestor create(Settings settings, Context context) {
        return X509PopAttestor.fromBundleFile(context.trustDomain(), settings.caBundleFile(), context.clock());
    }
}
