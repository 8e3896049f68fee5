package dev.sigil.server.tls;

import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Builds the Jetty TLS configuration for Sigil's listeners. Both variants allow only TLS 1.3 and 1.2
 * with forward-secret AEAD cipher suites, and take the server's identity from {@link TlsMaterial} at
 * every handshake (rotation needs no restart).
 */
public final class ServerTls {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final String[] CIPHER_SUITES = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    };
    private static final int SAN_URI = 6;

    private ServerTls() {
    }

    /** Server authentication only: for public, read-only material (bundle endpoint, discovery). */
    public static SslContextFactory.Server serverOnly(TlsMaterial material) {
        return factory(new RotatingKeyManager(Objects.requireNonNull(material, "material")), null, false);
    }

    /**
     * Mutual TLS: a client certificate is REQUIRED and must be a valid X.509-SVID chaining to the
     * {@code bundle}; a client without one fails the handshake and never reaches a handler.
     */
    public static SslContextFactory.Server mutual(TlsMaterial material, TrustBundleSource bundle, Clock clock) {
        return factory(new RotatingKeyManager(Objects.requireNonNull(material, "material")),
                new SpiffeClientTrustManager(Objects.requireNonNull(bundle, "bundle"), Objects.requireNonNull(clock, "clock")),
                true);
    }

    /**
     * Client certificates REQUESTED but not required (the token service): a client may connect without
     * one; a client that presents one must present a valid X.509-SVID chaining to {@code bundle}, or
     * the handshake fails.
     */
    public static SslContextFactory.Server clientCertificateRequested(TlsMaterial material, TrustBundleSource bundle, Clock clock) {
        SslContextFactory.Server factory = factory(new RotatingKeyManager(Objects.requireNonNull(material, "material")),
                new SpiffeClientTrustManager(Objects.requireNonNull(bundle, "bundle"), Objects.requireNonNull(clock, "clock")),
                false);
        factory.setWantClientAuth(true);
        factory.setSslSessionTimeout(300);
        return factory;
    }

    /**
     * A key manager that presents {@code material}'s current identity at each handshake, for listeners
     * that build their own TLS stack (the gRPC agent API).
     */
    public static javax.net.ssl.X509ExtendedKeyManager rotatingKeyManager(TlsMaterial material) {
        return new RotatingKeyManager(Objects.requireNonNull(material, "material"));
    }

    /**
     * Validates a client's certificate chain as an X.509-SVID against {@code bundle} at the clock's time,
     * with the same rules as {@link #mutual}'s handshake check.
     *
     * @throws java.security.cert.CertificateException naming what is wrong with the chain
     */
    public static void verifyClientSvid(X509Certificate[] chain, TrustBundleSource bundle, Clock clock)
            throws java.security.cert.CertificateException {
        new SpiffeClientTrustManager(Objects.requireNonNull(bundle, "bundle"), Objects.requireNonNull(clock, "clock")).validate(chain);
    }

    private static SslContextFactory.Server factory(KeyManager keyManager, TrustManager trustManager, boolean needClientAuth) {
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {keyManager}, trustManager == null ? null : new TrustManager[] {trustManager}, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot initialise a tls context: " + e.getMessage(), e);
        }
        SslContextFactory.Server factory = new SslContextFactory.Server();
        factory.setSslContext(context);
        factory.setIncludeProtocols(PROTOCOLS);
        factory.setIncludeCipherSuites(CIPHER_SUITES);
        factory.setNeedClientAuth(needClientAuth);
        factory.setWantClientAuth(needClientAuth);
        factory.setRenegotiationAllowed(false);
        factory.setSniRequired(false);
        if (needClientAuth) {
            // Resumed sessions are not re-validated by JSSE; keep them short-lived.
            factory.setSslSessionTimeout(300);
        }
        return factory;
    }

    /**
     * The SPIFFE ID of an X.509-SVID: present only when the certificate has exactly one URI SAN and
     * that URI is a valid SPIFFE ID. Anything else (no URI, two URIs, an https URI) is empty.
     */
    public static Optional<SpiffeId> spiffeIdOf(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
        if (names == null) {
            return Optional.empty();
        }
        List<String> uris = names.stream()
                .filter(name -> name.size() == 2 && Integer.valueOf(SAN_URI).equals(name.get(0)))
                .map(name -> String.valueOf(name.get(1)))
                .toList();
        if (uris.size() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(SpiffeId.parse(uris.get(0)));
        } catch (InvalidSpiffeIdException e) {
            return Optional.empty();
        }
    }
}
