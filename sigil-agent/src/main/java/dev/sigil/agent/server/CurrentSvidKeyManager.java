package dev.sigil.agent.server;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents the agent's current SVID as TLS client certificate, read at each handshake; presents
 * nothing before the agent has an SVID (attestation is the only call allowed without one).
 */
final class CurrentSvidKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "agent-svid";
    private final Supplier<Optional<AgentCredentials>> current;

    CurrentSvidKeyManager(Supplier<Optional<AgentCredentials>> current) {
        this.current = current;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return current.get().isPresent() ? ALIAS : null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return current.get().isPresent() ? ALIAS : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return current.get().isPresent() ? new String[] {ALIAS} : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return current.get().filter(c -> ALIAS.equals(alias)).map(c -> c.svid().chain().toArray(X509Certificate[]::new)).orElse(null);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return current.get().filter(c -> ALIAS.equals(alias)).map(AgentCredentials::exportPrivateKey).orElse(null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
