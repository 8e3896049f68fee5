package dev.sigil.agent.testing;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.sigil.core.crypto.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A kubelet stand-in on 127.0.0.1: {@code GET /pods} over HTTPS with a serving certificate (SANs
 * {@code 127.0.0.1} and {@code node-1}) from its own throwaway CA, answering the pod list set by
 * {@link #serve} to requests bearing {@link #TOKEN}, and http 401 to any other. {@link #caFile()} is the
 * CA an agent must trust, {@link #tokenFile()} holds the token.
 */
public final class KubeletStandIn implements AutoCloseable {
    public static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-service-account-token.c2ln";

    private final HttpsServer server;
    private final Path caFile;
    private final Path tokenFile;
    private final AtomicReference<byte[]> podList = new AtomicReference<>("{\"kind\":\"PodList\",\"items\":[]}".getBytes(StandardCharsets.UTF_8));
    private final AtomicInteger requests = new AtomicInteger();

    public KubeletStandIn(Path dir) {
        try {
            Instant now = Instant.now();
            KeyPair caKeys = TestCa.ecKeys();
            X500Name caName = new X500Name("CN=kubelet-ca-" + System.nanoTime());
            X509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(1))), caName, caKeys.getPublic());
            ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            X509Certificate caCert = sign(ca, caKeys);
            KeyPair leafKeys = TestCa.ecKeys();
            X509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(now.toEpochMilli() + 1),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(1))), new X500Name("CN=node-1"),
                    leafKeys.getPublic());
            leaf.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            leaf.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "node-1")}));
            X509Certificate leafCert = sign(leaf, caKeys);

            Files.createDirectories(dir);
            caFile = Files.writeString(dir.resolve("kubelet-ca-" + System.nanoTime() + ".crt"), Pem.encodeCertificates(List.of(caCert)));
            tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");

            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("kubelet", leafKeys.getPrivate(), new char[0], new X509Certificate[] {leafCert, caCert});
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, new char[0]);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys.getKeyManagers(), null, null);

            server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/pods", exchange -> {
                requests.incrementAndGet();
                try (InputStream ignored = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
                    if (!("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                        exchange.sendResponseHeaders(401, -1);
                        return;
                    }
                    byte[] body = podList.get();
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, body.length);
                    out.write(body);
                } catch (IOException e) {
                    // the client went away (for example after refusing an oversized body)
                }
            });
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the kubelet stand-in", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    /** Answers {@code /pods} with {@code json} from now on. */
    public void serve(String json) {
        podList.set(json.getBytes(StandardCharsets.UTF_8));
    }

    /** A pod list from {@code src/test/resources/k8s/<name>}. */
    public static String fixture(String name) {
        try (InputStream in = KubeletStandIn.class.getResourceAsStream("/k8s/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource k8s/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public Path caFile() {
        return caFile;
    }

    public Path tokenFile() {
        return tokenFile;
    }

    /** How many {@code /pods} requests arrived, answered or refused. */
    public int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
