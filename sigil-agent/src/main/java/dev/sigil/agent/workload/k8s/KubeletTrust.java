package dev.sigil.agent.workload.k8s;

import dev.sigil.core.Printable;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.crypto.PemPrivateKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS context the agent talks to the kubelet with. Security property: the kubelet's certificate
 * chain must verify against the configured CA ({@code kubelet_ca_file}) and its leaf must name
 * {@code serverName} (a DNS or IP subject alternative name); otherwise the handshake fails and the
 * attestor serves no identity. There is no switch to skip this: an unverified kubelet could answer
 * with any pod's metadata. The server name is checked here rather than against the URL's host because
 * kubelets are usually reached on the loopback address while their certificates name the node.
 */
final class KubeletTrust {
    private KubeletTrust() {
    }

    static SSLContext context(Path caFile, String serverName, Optional<ClientCertificate> clientCertificate) {
        List<X509Certificate> roots;
        try {
            roots = Pem.parseCertificates(Files.readString(caFile, StandardCharsets.US_ASCII), "kubelet_ca_file " + caFile);
        } catch (IOException e) {
            throw new KubeletException("cannot read kubelet_ca_file " + caFile + ": " + Printable.reason(e)
                    + "; it must hold the PEM CA that signed the kubelet's serving certificate", e);
        } catch (RuntimeException e) {
            throw new KubeletException("kubelet_ca_file " + caFile + " holds no usable PEM certificate: " + Printable.reason(e), e);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("kubelet-ca-" + i, roots.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            X509TrustManager pkix = (X509TrustManager) factory.getTrustManagers()[0];
            KeyManager[] keys = clientCertificate.isPresent() ? keyManagers(clientCertificate.get()) : null;
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, new TrustManager[] {new NamedServerTrust(pkix, serverName)}, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new KubeletException("cannot use kubelet_ca_file " + caFile + ": " + Printable.reason(e), e);
        }
    }

    /** A client certificate chain and key (PEM files) the agent presents to the kubelet instead of a token. */
    record ClientCertificate(Path certFile, Path keyFile) {
    }

    private static KeyManager[] keyManagers(ClientCertificate client) throws GeneralSecurityException, IOException {
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = Pem.parseCertificates(Files.readString(client.certFile(), StandardCharsets.US_ASCII), "client_cert_file " + client.certFile());
            key = PemPrivateKeys.read(client.keyFile()).orElseThrow(() -> new KubeletException("client_key_file " + client.keyFile()
                    + " holds no unencrypted PEM private key"));
        } catch (IOException e) {
            throw new KubeletException("cannot read the kubelet client certificate or key (" + client.certFile() + ", "
                    + client.keyFile() + "): " + Printable.reason(e), e);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry("client", key, none, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, none);
        return factory.getKeyManagers();
    }

    /** PKIX chain validation against the CA, then the leaf must name {@code serverName}. */
    private static final class NamedServerTrust extends X509ExtendedTrustManager {
        private final X509TrustManager pkix;
        private final String serverName;

        NamedServerTrust(X509TrustManager pkix, String serverName) {
            this.pkix = pkix;
            this.serverName = serverName;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                pkix.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw new CertificateException("the kubelet's certificate does not verify against kubelet_ca_file ("
                        + Printable.reason(e) + ")", e);
            }
            if (!names(chain[0], serverName)) {
                throw new CertificateException("the kubelet's certificate does not name '" + serverName
                        + "' (kubelet_server_name); it names " + alternativeNames(chain[0]));
            }
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
            throw new CertificateException("the kubelet client trusts no clients");
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
            return pkix.getAcceptedIssuers();
        }
    }

    /** True when a DNS name (exact, or a one-label {@code *.} wildcard) or IP address SAN of {@code leaf} is {@code name}. */
    static boolean names(X509Certificate leaf, String name) {
        Optional<InetAddress> address = ipLiteral(name);
        for (List<?> san : sans(leaf)) {
            int kind = (Integer) san.get(0);
            String value = String.valueOf(san.get(1));
            if (kind == 7 && address.isPresent()) {
                if (ipLiteral(value).equals(address)) {
                    return true;
                }
            } else if (kind == 2 && address.isEmpty() && dnsMatches(value.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private static boolean dnsMatches(String pattern, String name) {
        if (pattern.startsWith("*.")) {
            int dot = name.indexOf('.');
            return dot > 0 && name.substring(dot).equals(pattern.substring(1));
        }
        return pattern.equals(name);
    }

    private static Optional<InetAddress> ipLiteral(String text) {
        boolean literal = text.contains(":") || text.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (!literal || text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByName(text)); // a literal: no lookup
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static Collection<List<?>> sans(X509Certificate leaf) {
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            return names == null ? List.of() : names;
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    private static String alternativeNames(X509Certificate leaf) {
        List<String> names = sans(leaf).stream().filter(san -> (Integer) san.get(0) == 2 || (Integer) san.get(0) == 7)
                .map(san -> Printable.clip(String.valueOf(san.get(1)), 80)).limit(8).toList();
        return names.isEmpty() ? "no dns or ip address" : String.join(", ", names);
    }
}
