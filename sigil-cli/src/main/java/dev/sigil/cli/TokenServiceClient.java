package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS to the token service as a workload sees it: the server is trusted only through the trust
 * domain's bundle from the Workload API and must prove the SPIFFE ID {@code expectedServer} (URI SAN, not
 * a DNS name); with a client identity, the workload authenticates with its X.509-SVID (mutual TLS).
 */
final class TokenServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The workload's X.509-SVID and its PKCS#8 private key, for mutual TLS. */
    record ClientIdentity(List<X509Certificate> chain, byte[] pkcs8Key) {
    }

    private final URI server;
    private final SpiffeId expectedServer;
    private final SSLContext tls;
    private final Duration timeout;

    TokenServiceClient(URI server, List<X509Certificate> bundle, SpiffeId expectedServer, Optional<ClientIdentity> client, Duration timeout) {
        this.server = server;
        this.expectedServer = expectedServer;
        this.tls = context(bundle, client);
        this.timeout = timeout;
    }

    /**
     * The audience the token service wants on JWT-SVIDs, from its RFC 8414 metadata, fetched over the same
     * authenticated TLS as the request itself (the server proves its SPIFFE ID).
     */
    String discoverAudience() {
        HttpsURLConnection connection = open("/.well-known/oauth-authorization-server");
        try {
            int status = connection.getResponseCode();
            if (status != 200) {
                throw new CliException("the token service at " + server + " publishes no metadata (" + status
                        + "); give its audience with --audience or SIGIL_TOKEN_AUDIENCE");
            }
            try (InputStream in = connection.getInputStream()) {
                String found = JSON.readTree(in).path("sigil_jwt_svid_audience").asText("");
                if (found.isBlank()) {
                    throw new CliException("the token service at " + server + " names no sigil_jwt_svid_audience in its metadata; "
                            + "give its audience with --audience or SIGIL_TOKEN_AUDIENCE");
                }
                return found;
            }
        } catch (IOException e) {
            throw unreachable(e);
        } finally {
            connection.disconnect();
        }
    }

    /** POSTs JSON with a bearer JWT-SVID; returns the answer, or throws naming the service's error. */
    JsonNode postJson(String path, String bearer, Object body) {
        try {
            return send(path, "application/json", JSON.writeValueAsBytes(body), Optional.of(bearer));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request as json", e);
        }
    }

    /** POSTs an {@code application/x-www-form-urlencoded} body (an OAuth request). */
    JsonNode postForm(String path, Map<String, String> form) {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(path, "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Optional.empty());
    }

    private JsonNode send(String path, String contentType, byte[] body, Optional<String> bearer) {
        HttpsURLConnection connection = open(path);
        try {
            connection.setRequestMethod("POST");
            connection.setDoOutput(true);
            connection.setRequestProperty("Content-Type", contentType);
            bearer.ifPresent(token -> connection.setRequestProperty("Authorization", "Bearer " + token));
            try (OutputStream stream = connection.getOutputStream()) {
                stream.write(body);
            }
            int status = connection.getResponseCode();
            InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            String text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            JsonNode json;
            try {
                json = text.isEmpty() ? JSON.createObjectNode() : JSON.readTree(text);
            } catch (IOException e) {
                throw new CliException("the token service answered " + status + " with something that is not json: "
                        + dev.sigil.core.Printable.clip(text));
            }
            if (status != 200) {
                throw new CliException("the token service refused (" + status + " " + json.path("error").asText("") + "): "
                        + dev.sigil.core.Printable.clip(json.path("error_description").asText(text)));
            }
            return json;
        } catch (IOException e) {
            throw unreachable(e);
        } finally {
            connection.disconnect();
        }
    }

    private HttpsURLConnection open(String path) {
        HttpsURLConnection connection;
        try {
            URL url = server.resolve(path).toURL();
            connection = (HttpsURLConnection) url.openConnection();
        } catch (IOException | IllegalArgumentException | ClassCastException e) {
            throw new CliException("--server " + server + " is not an https url: " + e.getMessage());
        }
        connection.setSSLSocketFactory(tls.getSocketFactory());
        // The server proves its SPIFFE ID (URI SAN), not a DNS name: check that instead of the host name.
        connection.setHostnameVerifier((host, session) -> {
            try {
                X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
                return leaf.getSubjectAlternativeNames() != null && leaf.getSubjectAlternativeNames().stream()
                        .anyMatch(san -> Integer.valueOf(6).equals(san.get(0)) && expectedServer.toString().equals(san.get(1)));
            } catch (SSLPeerUnverifiedException | java.security.cert.CertificateParsingException e) {
                return false;
            }
        });
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        connection.setConnectTimeout(timeoutMs);
        connection.setReadTimeout(timeoutMs);
        return connection;
    }

    private CliException unreachable(IOException e) {
        return new CliException("cannot reach the token service at " + server + ": " + e.getMessage()
                + " (set SIGIL_TOKEN_URL or --server to its https url)", 1, e);
    }

    private static SSLContext context(List<X509Certificate> bundle, Optional<ClientIdentity> client) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            List<X509Certificate> roots = new ArrayList<>(bundle);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("bundle-" + i, roots.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            KeyManager[] keys = null;
            if (client.isPresent()) {
                PrivateKey key = privateKey(client.get().pkcs8Key());
                KeyStore own = KeyStore.getInstance("PKCS12");
                own.load(null, null);
                own.setKeyEntry("svid", key, new char[0], client.get().chain().toArray(Certificate[]::new));
                KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                factory.init(own, new char[0]);
                keys = factory.getKeyManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new CliException("cannot build tls from the workload api's svid and bundle: " + e.getMessage(), 1, e);
        }
    }

    private static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("the x509-svid's private key is not an EC, RSA or Ed25519 pkcs#8 key", last);
    }
}
