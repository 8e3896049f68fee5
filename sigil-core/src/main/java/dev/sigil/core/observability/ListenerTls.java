package dev.sigil.core.observability;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.crypto.PemPrivateKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * TLS of the metrics listener, from PEM files read once at start: TLS 1.3 and 1.2 only, no
 * renegotiation; with a client CA, a client certificate is REQUIRED and must chain (PKIX) to that CA,
 * so a client without one fails the handshake and never reaches a handler.
 */
final class ListenerTls {
    private static final char[] NO_PASSWORD = new char[0];

    private ListenerTls() {
    }

    static SslContextFactory.Server factory(MetricsListenerSettings.Tls tls) {
        SSLContext context;
        try {
            List<X509Certificate> chain = Pem.parseCertificates(Files.readString(tls.certFile(), StandardCharsets.US_ASCII),
                    tls.certFile().toString());
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("metrics", readKey(tls.keyFile()), NO_PASSWORD, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, NO_PASSWORD);
            TrustManagerFactory trustManagers = null;
            if (tls.clientCaFile().isPresent()) {
                Path caFile = tls.clientCaFile().get();
                KeyStore cas = KeyStore.getInstance("PKCS12");
                cas.load(null, null);
                int n = 0;
                for (X509Certificate ca : Pem.parseCertificates(Files.readString(caFile, StandardCharsets.US_ASCII), caFile.toString())) {
                    cas.setCertificateEntry("ca-" + n++, ca);
                }
                trustManagers = TrustManagerFactory.getInstance("PKIX");
                trustManagers.init(cas);
            }
            context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), trustManagers == null ? null : trustManagers.getTrustManagers(), null);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("metrics.tls: cannot use " + tls.certFile() + ", " + tls.keyFile()
                    + tls.clientCaFile().map(ca -> " and " + ca).orElse("") + ": " + e.getMessage(), e);
        }
        SslContextFactory.Server factory = new SslContextFactory.Server();
        factory.setSslContext(context);
        factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        factory.setRenegotiationAllowed(false);
        factory.setSniRequired(false);
        boolean mutual = tls.clientCaFile().isPresent();
        factory.setNeedClientAuth(mutual);
        factory.setWantClientAuth(mutual);
        return factory;
    }

    private static PrivateKey readKey(Path file) throws IOException {
        return PemPrivateKeys.read(file).orElseThrow(() -> new IOException(file + " holds no unencrypted pem private key"));
    }
}
