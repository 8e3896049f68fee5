package dev.sigil.agent.server;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The agent's own X.509-SVID as the server issued it: the chain (leaf first) for the agent's key, and
 * the trust bundle when the server sent one. Public material only; the key lives in {@code AgentCredentials}.
 */
public record AgentSvid(SpiffeId spiffeId, List<X509Certificate> chain, Optional<SpiffeBundle> bundle,
                        int trustLevel, List<Selector> selectors) {
    public AgentSvid {
        Objects.requireNonNull(spiffeId, "spiffeId");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("agent svid for '" + spiffeId + "' has no certificate");
        }
        Objects.requireNonNull(bundle, "bundle");
        selectors = List.copyOf(selectors);
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    @Override
    public String toString() {
        return "AgentSvid[" + spiffeId + ", notAfter=" + notAfter() + "]";
    }
}
