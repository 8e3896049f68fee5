package dev.sigil.agent.attestor;

import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.agent.config.AgentConfigException;
import java.nio.file.Path;

/** {@code node_attestor.type: x509pop}: the node's certificate ({@code cert_file}) and private key ({@code key_file}), PEM. */
public final class X509PopAttestorClientPlugin extends NamedPlugin<X509PopAttestorClientPlugin.Settings>
        implements NodeAttestorClientPlugin<X509PopAttestorClientPlugin.Settings> {
    public static final String TYPE = "x509pop";

    public record Settings(Path certFile, Path keyFile) {
        public Settings {
            if (certFile == null || keyFile == null) {
                throw new AgentConfigException("node_attestor type x509pop needs both cert_file and key_file");
            }
        }
    }

    public X509PopAttestorClientPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestorClient create(Settings settings) {
        return X509PopAttestorClient.load(settings.certFile(), settings.keyFile());
    }
}
