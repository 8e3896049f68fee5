package dev.sigil.agent.attestor;

import dev.sigil.core.plugin.NamedPlugin;
import java.nio.file.Path;

/**
 * {@code node_attestor.type: jwt}: a platform-issued JWT read from {@code token_path} at each attestation
 * (default {@value #DEFAULT_TOKEN_PATH}, where a Kubernetes projected token volume puts it).
 */
public final class JwtAttestorClientPlugin extends NamedPlugin<JwtAttestorClientPlugin.Settings>
        implements NodeAttestorClientPlugin<JwtAttestorClientPlugin.Settings> {
    public static final String TYPE = JwtAttestorClient.TYPE;
    public static final String DEFAULT_TOKEN_PATH = "/var/run/secrets/tokens/sigil-agent";

    /** @param tokenPath the token file; {@value #DEFAULT_TOKEN_PATH} when absent */
    public record Settings(Path tokenPath) {
        public Settings {
            tokenPath = tokenPath == null ? Path.of(DEFAULT_TOKEN_PATH) : tokenPath;
        }
    }

    public JwtAttestorClientPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestorClient create(Settings settings) {
        return new JwtAttestorClient(settings.tokenPath());
    }
}
