package dev.sigil.server.agent.attestor;

import dev.sigil.core.plugin.NamedPlugin;

/** The {@code join_token} node attestor plugin: single-use tokens minted with {@code sigil token generate}; no settings. */
public final class JoinTokenAttestorPlugin extends NamedPlugin<JoinTokenAttestorPlugin.Settings>
        implements NodeAttestorPlugin<JoinTokenAttestorPlugin.Settings> {
    public static final String TYPE = "join_token";

    /** {@code node_attestors.join_token}: nothing to set (the tokens live in the datastore). */
    public record Settings() {
    }

    public JoinTokenAttestorPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestor create(Settings settings, Context context) {
        return new JoinTokenAttestor(context.joinTokens(), context.trustDomain());
    }
}
