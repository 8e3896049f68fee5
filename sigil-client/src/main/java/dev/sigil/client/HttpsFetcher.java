package dev.sigil.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;

/**
 * GETs over HTTPS only, with timeouts and a size limit ({@value #MAX_BYTES} bytes). Two ways to trust Sigil's
 * bundle endpoint, matching its two profiles: {@link #webPki()} (a certificate from a public CA, checked with
 * the JDK's roots and host name) and {@link #spiffe} (the server's X.509-SVID, checked against the trust
 * domain's bundle and its expected SPIFFE ID instead of a host name).
 */
public final class HttpsFetcher implements DocumentFetcher {
    static final int MAX_BYTES = 1024 * 1024;

    private final SSLContext tls;
    private final HostnameVerifier hostnames;
    private final Duration timeout;

    private HttpsFetcher(SSLContext tls, HostnameVerifier hostnames, Duration timeout) {
        this.tls = tls;
        this.hostnames = hostnames;
        this.timeout = timeout;
    }

    /** The {@code https_web} profile: the JDK's trusted roots and host name verification. */
    public static HttpsFetcher webPki() {
        try {
            return new HttpsFetcher(SSLContext.getDefault(), HttpsURLConnection.getDefaultHostnameVerifier(), Duration.ofSeconds(10));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no default tls context: " + e.getMessage(), e);
        }
    }

    /** The {@code https_spiffe} profile: trust only {@code bundle}, and require the server to prove {@code serverSpiffeId}. */
    public static HttpsFetcher spiffe(List<X509Certificate> bundle, String serverSpiffeId) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < bundle.size(); i++) {
                store.setCertificateEntry("bundle-" + i, bundle.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            HostnameVerifier spiffeId = (host, session) -> {
                try {
                    X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
                    return leaf.getSubjectAlternativeNames() != null && leaf.getSubjectAlternativeNames().stream()
                            .anyMatch(san -> Integer.valueOf(6).equals(san.get(0)) && serverSpiffeId.equals(san.get(1)));
                } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
                    return false;
                }
            };
            return new HttpsFetcher(context, spiffeId, Duration.ofSeconds(10));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot build a trust store from the bundle: " + e.getMessage(), e);
        }
    }

    @Override
    public String get(URI uri) throws IOException {
        if (!"https".equalsIgnoreCase(uri.getScheme())) {
            throw new IOException("refusing to fetch " + uri + ": only https is allowed");
        }
        HttpsURLConnection connection = (HttpsURLConnection) uri.toURL().openConnection();
        connection.setSSLSocketFactory(tls.getSocketFactory());
        connection.setHostnameVerifier(hostnames);
        connection.setConnectTimeout((int) timeout.toMillis());
        connection.setReadTimeout((int) timeout.toMillis());
        connection.setInstanceFollowRedirects(false);
        try {
            int status = connection.getResponseCode();
            if (status != 200) {
                throw new IOException(uri + " answered " + status);
            }
            try (InputStream in = connection.getInputStream()) {
                byte[] body = in.readNBytes(MAX_BYTES + 1);
                if (body.length > MAX_BYTES) {
                    throw new IOException(uri + " is larger than " + MAX_BYTES + " bytes");
                }
                return new String(body, StandardCharsets.UTF_8);
            }
        } finally {
            connection.disconnect();
        }
    }
}
