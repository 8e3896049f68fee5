package dev.sigil.server.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Validates client certificates as X.509-SVIDs: the chain must verify (PKIX, at the injected clock's
 * time) up to one of the authorities the {@link TrustBundleSource} returns at handshake time; the leaf
 * must not be a CA, must carry exactly one URI SAN that is a SPIFFE ID, and when it has an extended
 * key usage, that usage must include client authentication. Revocation is not checked: SVIDs are
 * short-lived by design. Authorization (is this SPIFFE ID an admin?) is a separate, later step.
 * This manager never validates servers.
 *
 * <p>The agent API does not install it in its handshake (its {@code DeferredClientCheck} accepts any
 * non-empty chain, so agents with a stale SVID get a gRPC status rather than a handshake failure); it
 * applies {@link #validate} per call instead, through {@link ServerTls#verifyClientSvid}.
 */
final class SpiffeClientTrustManager extends X509ExtendedTrustManager {
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_USAGE = "2.5.29.37.0";

    private final TrustBundleSource bundle;
    private final Clock clock;

    SpiffeClientTrustManager(TrustBundleSource bundle, Clock clock) {
        this.bundle = bundle;
        this.clock = clock;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        validate(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        validate(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        validate(chain);
    }

    void validate(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the client presented no certificate");
        }
        X509Certificate leaf = chain[0];
        if (leaf.getBasicConstraints() >= 0) {
            throw new CertificateException("the client certificate is a ca certificate; an x509-svid leaf is required");
        }
        if (ServerTls.spiffeIdOf(leaf).isEmpty()) {
            throw new CertificateException("the client certificate has no single spiffe id uri san");
        }
        List<String> usages = leaf.getExtendedKeyUsage();
        if (usages != null && !usages.contains(CLIENT_AUTH) && !usages.contains(ANY_USAGE)) {
            throw new CertificateException("the client certificate's extended key usage does not allow client authentication");
        }
        Collection<X509Certificate> roots = bundle.x509Authorities();
        if (roots == null || roots.isEmpty()) {
            throw new CertificateException("no trust bundle is available to validate client certificates");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate root : roots) {
            anchors.add(new TrustAnchor(root, null));
        }
        List<X509Certificate> path = new ArrayList<>(List.of(chain));
        while (path.size() > 1 && roots.contains(path.get(path.size() - 1))) {
            path.remove(path.size() - 1);
        }
        try {
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
        } catch (GeneralSecurityException e) {
            throw new CertificateException("the client certificate does not chain to the trust bundle: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("this trust manager only validates clients");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("this trust manager only validates clients");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this trust manager only validates clients");
    }

    /** Empty: clients choose their SVID themselves; the server does not advertise its roots. */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
