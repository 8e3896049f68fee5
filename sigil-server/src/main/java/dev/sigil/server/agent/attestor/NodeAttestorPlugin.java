package dev.sigil.server.agent.attestor;

import dev.sigil.server.config.ServerPlugins;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.core.plugin.Plugin;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.server.registration.JoinTokens;
import java.time.Clock;

/**
 * A node attestation method as a plugin: configured under {@code node_attestors.<type>}, built into a
 * {@link NodeAttestor} that passes the node attestor contract test. Registered in
 * {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 */
public interface NodeAttestorPlugin<S extends Record> extends Plugin<S> {
    @Override
    default PluginKind kind() {
        return ServerPlugins.NODE_ATTESTORS;
    }

    /** Builds the attestor; may read its files (a CA bundle) and refuses bad ones naming the key. */
    NodeAttestor create(S settings, Context context);

    /**
     * What the server gives every node attestor.
     *
     * @param singleUse  where attestors whose evidence may be used once (jwt) remember what they accepted
     * @param continuous where attestors whose evidence is renewed while the agent runs (tpm) register
     */
    record Context(TrustDomain trustDomain, JoinTokens joinTokens, Clock clock, SingleUseEvidence singleUse,
                   ContinuousAttestors continuous) {
        public Context(TrustDomain trustDomain, JoinTokens joinTokens, Clock clock, SingleUseEvidence singleUse) {
            this(trustDomain, joinTokens, clock, singleUse, new ContinuousAttestors());
        }
    }
}
