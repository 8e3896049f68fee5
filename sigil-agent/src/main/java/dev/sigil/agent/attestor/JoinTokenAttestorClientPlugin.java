package dev.sigil.agent.attestor;

import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.agent.config.AgentConfigException;
import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.PluginChoice;
import java.util.Optional;

/**
 * {@code node_attestor.type: join_token}: a single-use token from {@code sigil token generate}, from
 * {@code SIGIL_JOIN_TOKEN} (preferred: it stays out of files) or {@code node_attestor.join_token}.
 */
public final class JoinTokenAttestorClientPlugin extends NamedPlugin<JoinTokenAttestorClientPlugin.Settings>
        implements NodeAttestorClientPlugin<JoinTokenAttestorClientPlugin.Settings> {
    public static final String TYPE = JoinTokenAttestorClient.TYPE;

    /** @param joinToken the token; {@code null} when it comes from the environment. Never shown by {@link #toString()}. */
    public record Settings(String joinToken) {
        @Override
        public String toString() {
            return "Settings[joinToken=" + (joinToken == null ? "<none>" : "<redacted>") + "]";
        }
    }

    public JoinTokenAttestorClientPlugin() {
        super(TYPE, Settings.class);
    }

    /** The join token attestor with {@code token} (agents started in process: {@code sigil dev}, tests, benchmarks). */
    public static PluginChoice choice(String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("join token is empty");
        }
        return new PluginChoice(AgentPlugins.NODE_ATTESTOR, TYPE, new Settings(token));
    }

    /**
     * The attestor the agent uses given {@code configured} (the file's {@code node_attestor}, if any) and a token from
     * the environment: the environment's token wins for {@code join_token} and chooses it when the file names none.
     */
    public static Optional<PluginChoice> withEnvironmentToken(Optional<PluginChoice> configured, Optional<String> envToken) {
        if (configured.isEmpty()) {
            return envToken.map(JoinTokenAttestorClientPlugin::choice);
        }
        PluginChoice chosen = configured.get();
        if (!chosen.type().equals(TYPE)) {
            return configured;
        }
        String token = envToken.orElse(chosen.settings(Settings.class).joinToken());
        if (token == null || token.isBlank()) {
            throw new AgentConfigException("node_attestor type join_token needs node_attestor.join_token or "
                    + dev.sigil.agent.config.AgentConfigLoader.SIGIL_JOIN_TOKEN);
        }
        return Optional.of(choice(token));
    }

    @Override
    public NodeAttestorClient create(Settings settings) {
        return new JoinTokenAttestorClient(settings.joinToken());
    }
}
