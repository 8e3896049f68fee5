package dev.sigil.server.federation;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.tls.ServerTls;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Authenticates an https_spiffe bundle endpoint: its certificate chain must verify (PKIX, at the
 * injected clock's time) up to one of the foreign trust domain's current X.509 authorities, and the leaf
 * must be an X.509-SVID (not a CA, exactly one URI SAN) of exactly the expected SPIFFE ID. Host names
 * play no part (the SPIFFE ID is the identity). Fails closed: no authorities, no trust. Never trusts
 * clients.
 */
final class EndpointSvidTrust extends X509ExtendedTrustManager {
    private final List<X509Certificate> authorities;
    private final SpiffeId expected;
    private final Clock clock;

    EndpointSvidTrust(List<X509Certificate> authorities, SpiffeId expected, Clock clock) {
        this.authorities = List.copyOf(authorities);
        this.expected = expected;
        this.clock = clock;
    }

    void validate(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the bundle endpoint presented no certificate");
        }
        if (authorities.isEmpty()) {
            throw new CertificateException("no x509 authority of " + expected.trustDomain() + " is known");
        }
        X509Certificate leaf = chain[0];
        if (leaf.getBasicConstraints() >= 0) {
            throw new CertificateException("the bundle endpoint's certificate is a ca certificate, not an x509-svid");
        }
        Optional<SpiffeId> presented = ServerTls.spiffeIdOf(leaf);
        if (presented.isEmpty()) {
            throw new CertificateException("the bundle endpoint's certificate has no spiffe id; expected " + expected);
        }
        if (!presented.get().equals(expected)) {
            throw new CertificateException("the bundle endpoint presented spiffe id " + presented.get() + "; expected " + expected);
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            authorities.forEach(authority -> anchors.add(new TrustAnchor(authority, null)));
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(chain)),
                    parameters);
        } catch (GeneralSecurityException e) {
            throw new CertificateException("the bundle endpoint's svid does not chain to the current bundle of "
                    + expected.trustDomain() + ": " + e.getMessage());
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        validate(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        validate(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        validate(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a bundle endpoint client trusts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a bundle endpoint client trusts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a bundle endpoint client trusts no clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
