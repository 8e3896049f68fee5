package dev.sigil.cli;

import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * One side of a mutual-TLS connection between two workloads, each authenticated only by the X.509-SVID
 * it fetched with java-spiffe. As a server (run in its own process) it prints its port, accepts one
 * connection, and prints the client's SPIFFE ID; {@link #context} is shared with the client side.
 */
public final class SpiffeTlsPeer {
    private SpiffeTlsPeer() {
    }

    public static void main(String[] args) throws Exception {
        X509Context context = fetch(args[0]);
        SSLContext tls = context(context);
        try (SSLServerSocket server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            server.setNeedClientAuth(true);
            System.out.println("PORT " + server.getLocalPort());
            System.out.flush();
            try (SSLSocket socket = (SSLSocket) server.accept()) {
                socket.startHandshake();
                String peer = spiffeId((X509Certificate) socket.getSession().getPeerCertificates()[0]);
                System.out.println("PEER " + peer);
                PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
                out.println("hello " + peer + " from " + context.getDefaultSvid().getSpiffeId());
                new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
            }
        }
        System.exit(0);
    }

    static X509Context fetch(String socket) throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(socket).build())) {
            return client.fetchX509Context();
        }
    }

    /** TLS that presents this workload's SVID and trusts only its trust domain's bundle. */
    static SSLContext context(X509Context context) throws Exception {
        X509Svid svid = context.getDefaultSvid();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("svid", svid.getPrivateKey(), new char[0], svid.getChainArray());
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
        keyManagers.init(keys, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate authority : context.getX509BundleSet().getBundleForTrustDomain(svid.getSpiffeId().getTrustDomain())
                .getX509Authorities()) {
            trust.setCertificateEntry("ca" + i++, authority);
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
        trustManagers.init(trust);
        SSLContext tls = SSLContext.getInstance("TLSv1.3");
        tls.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return tls;
    }

    static String spiffeId(X509Certificate certificate) throws Exception {
        List<String> uris = certificate.getSubjectAlternativeNames().stream().filter(san -> (Integer) san.get(0) == 6)
                .map(san -> (String) san.get(1)).toList();
        return uris.size() == 1 ? URI.create(uris.get(0)).toString() : "none";
    }
}
