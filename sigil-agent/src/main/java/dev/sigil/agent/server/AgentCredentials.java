package dev.sigil.agent.server;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.Objects;

/**
 * The agent's key pair and the SVID the server issued for it. The private key stays in memory and is
 * reachable only through {@link #exportPrivateKey()}; {@link #toString()} never shows it.
 */
public record AgentCredentials(KeyPair keys, AgentSvid svid) {
    public AgentCredentials {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(svid, "svid");
        if (!NodeKeys.certifies(svid.leaf(), keys)) {
            throw new IllegalArgumentException("agent svid '" + svid.spiffeId() + "' does not certify the agent's key");
        }
    }

    /** The private key: only for the TLS client handshake and {@link AgentSvidStore} (greppable export path). */
    PrivateKey exportPrivateKey() {
        return keys.getPrivate();
    }

    @Override
    public String toString() {
        return "AgentCredentials[" + svid + ", key=<redacted>]";
    }
}
