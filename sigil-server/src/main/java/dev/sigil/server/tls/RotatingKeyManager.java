package dev.sigil.server.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server-side key manager that asks {@link TlsMaterial} for the current identity at each handshake.
 * The alias it chooses names one snapshot, and the chain and key are looked up by that alias, so a
 * rotation between JSSE's calls can never pair a new certificate with an old key.
 */
final class RotatingKeyManager extends X509ExtendedKeyManager {
    private static final int REMEMBERED = 4;

    private final TlsMaterial material;
    private final Map<String, TlsIdentity> recent = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TlsIdentity> eldest) {
            return size() > REMEMBERED;
        }
    };

    RotatingKeyManager(TlsMaterial material) {
        this.material = material;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType);
    }

    private String choose(String keyType) {
        TlsIdentity identity = material.current();
        String algorithm = identity.privateKey().getAlgorithm();
        boolean matches = keyType.equals(algorithm) || ("EC".equals(keyType) && "ECDSA".equals(algorithm));
        if (!matches) {
            return null;
        }
        String alias = "sigil-" + identity.leaf().getSerialNumber().toString(16) + "-"
                + Integer.toHexString(System.identityHashCode(identity));
        synchronized (recent) {
            recent.put(alias, identity);
        }
        return alias;
    }

    private TlsIdentity lookup(String alias) {
        synchronized (recent) {
            return alias == null ? null : recent.get(alias);
        }
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        TlsIdentity identity = lookup(alias);
        return identity == null ? null : identity.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        TlsIdentity identity = lookup(alias);
        return identity == null ? null : identity.privateKey();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String alias = choose(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
