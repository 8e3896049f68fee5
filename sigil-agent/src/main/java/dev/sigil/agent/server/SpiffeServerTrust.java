package dev.sigil.agent.server;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates the Sigil server the SPIFFE way, with no hostname verification: the server's chain
 * must validate (PKIX, at the injected clock's time) to one of the trust domain's X.509 authorities,
 * and its leaf must carry exactly one URI SAN, equal to {@code spiffe://<td>/sigil/server}.
 *
 * <p>Anchors come from the configured trust bundle file and are replaced by the bundle the server sends
 * once the agent is attested. With insecure bootstrap and no anchors yet, the first chain whose leaf has
 * the server ID is accepted without chain validation, and its root becomes the anchor: an attacker who
 * can intercept that first connection can impersonate the server (trust on first use).
 */
public final class SpiffeServerTrust extends X509ExtendedTrustManager {
    private static final Logger LOG = LoggerFactory.getLogger(SpiffeServerTrust.class);
    private static final int URI_SAN = 6;

    private final SpiffeId serverId;
    private final Clock clock;
    private final boolean insecureBootstrap;
    private final AtomicReference<List<X509Certificate>> anchors;

    public SpiffeServerTrust(TrustDomain trustDomain, List<X509Certificate> anchors, boolean insecureBootstrap, Clock clock) {
        this.serverId = serverId(trustDomain);
        this.clock = clock;
        this.insecureBootstrap = insecureBootstrap;
        this.anchors = new AtomicReference<>(List.copyOf(anchors));
        if (anchors.isEmpty() && !insecureBootstrap) {
            throw new IllegalArgumentException("no trust anchors for '" + trustDomain + "'; set trust_bundle_path (or insecure_bootstrap: true)");
        }
    }

    /** The SPIFFE ID every Sigil server of {@code trustDomain} presents. */
    public static SpiffeId serverId(TrustDomain trustDomain) {
        return trustDomain.id("/sigil/server");
    }

    /** Replaces the anchors with the trust domain's current X.509 authorities (from a synced bundle). */
    public void updateAnchors(List<X509Certificate> authorities) {
        if (!authorities.isEmpty()) {
            anchors.set(List.copyOf(authorities));
        }
    }

    public List<X509Certificate> anchors() {
        return anchors.get();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the server presented no certificate");
        }
        String uri = singleUriSan(chain[0]);
        if (!serverId.toString().equals(uri)) {
            throw new CertificateException("server certificate has uri san '" + uri + "'; expected '" + serverId + "'");
        }
        List<X509Certificate> current = anchors.get();
        if (current.isEmpty() && insecureBootstrap) {
            X509Certificate root = chain[chain.length - 1];
            if (anchors.compareAndSet(current, List.of(root))) {
                LOG.warn("INSECURE BOOTSTRAP: trusting the server certificate chain of '{}' without verification (root '{}');"
                        + " configure trust_bundle_path to authenticate the server", serverId, root.getSubjectX500Principal());
            }
            return;
        }
        validate(chain, current.isEmpty() ? anchors.get() : current);
    }

    private void validate(X509Certificate[] chain, List<X509Certificate> trusted) throws CertificateException {
        try {
            Set<TrustAnchor> trustAnchors = new HashSet<>();
            for (X509Certificate anchor : trusted) {
                trustAnchors.add(new TrustAnchor(anchor, null));
            }
            List<X509Certificate> path = new ArrayList<>(Arrays.asList(chain));
            // A chain that ends with an anchor itself: drop the anchor, PKIX wants the path below it.
            while (path.size() > 1 && trusted.contains(path.get(path.size() - 1))) {
                path.remove(path.size() - 1);
            }
            PKIXParameters parameters = new PKIXParameters(trustAnchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
        } catch (GeneralSecurityException e) {
            throw new CertificateException("server certificate of '" + serverId + "' does not chain to the trust bundle: " + e.getMessage(), e);
        }
    }

    private static String singleUriSan(X509Certificate leaf) throws CertificateException {
        Collection<List<?>> names;
        try {
            names = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("server certificate has unreadable subject alternative names", e);
        }
        List<String> uris = new ArrayList<>();
        if (names != null) {
            for (List<?> name : names) {
                if (((Integer) name.get(0)) == URI_SAN) {
                    uris.add(String.valueOf(name.get(1)));
                }
            }
        }
        if (uris.size() != 1) {
            throw new CertificateException("server certificate has " + uris.size() + " uri sans " + uris + "; exactly one is required");
        }
        return uris.get(0);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the agent does not accept client connections");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
