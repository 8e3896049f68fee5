package dev.sigil.agent.workload;

import io.spiffe.svid.x509svid.X509Svid;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** TLS 1.3 with client authentication between two SVID holders, both trusting the fetched bundle. */
final class MutualTls {
    record Peers(String seenByServer, String seenByClient) {}

    private MutualTls() {}

    static SSLContext context(X509Svid svid, Collection<X509Certificate> authorities) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("svid", svid.getPrivateKey(), new char[0], svid.getChainArray());
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate authority : authorities) {
            trust.setCertificateEntry("ca" + i++, authority);
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }

    /** Runs one handshake plus a byte each way; returns the SPIFFE ID each side saw in the other's leaf. */
    static Peers handshake(SSLContext server, SSLContext client) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            CompletableFuture<String> serverSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    InputStream in = socket.getInputStream();
                    int b = in.read();
                    socket.getOutputStream().write(b + 1);
                    socket.getOutputStream().flush();
                    return uri((X509Certificate) socket.getSession().getPeerCertificates()[0]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                OutputStream out = socket.getOutputStream();
                out.write(41);
                out.flush();
                if (socket.getInputStream().read() != 42) {
                    throw new IllegalStateException("echo failed");
                }
                String seenByClient = uri((X509Certificate) socket.getSession().getPeerCertificates()[0]);
                return new Peers(serverSide.get(10, TimeUnit.SECONDS), seenByClient);
            }
        }
    }

    private static String uri(X509Certificate certificate) throws Exception {
        for (List<?> name : certificate.getSubjectAlternativeNames()) {
            if ((Integer) name.get(0) == 6) {
                return (String) name.get(1);
            }
        }
        throw new IllegalStateException("no uri san");
    }
}
