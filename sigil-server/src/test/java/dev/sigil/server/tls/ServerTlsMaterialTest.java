package dev.sigil.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.endpoint.BundleEndpoint;
import dev.sigil.server.endpoint.PublicMaterial;
import dev.sigil.server.testing.TestPki;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerTlsMaterialTest {
    static final PublicMaterial EMPTY = new PublicMaterial() {
        @Override
        public String bundleJson() {
            return "{\"keys\":[]}";
        }

        @Override
        public String jwksJson() {
            return "{\"keys\":[]}";
        }

        @Override
        public List<String> signingAlgorithms() {
            return List.of();
        }
    };

    @TempDir
    Path dir;

    private final TestPki pki = TestPki.create("sigil.test", Instant.now());

    private static X509Certificate presented(TestPki pki, InetSocketAddress address) throws IOException {
        try (SSLSocket socket = (SSLSocket) pki.clientContext(null).getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private BundleEndpoint serve(TlsMaterial material) {
        BundleEndpoint endpoint = BundleEndpoint.create(BundleEndpoint.Options.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMinutes(5), URI.create("https://oidc.sigil.test")), material, EMPTY);
        endpoint.start();
        return endpoint;
    }

    @Test
    void rotatedIdentityIsPresentedToTheNextConnectionWithoutRestart() throws Exception {
        TlsIdentity first = pki.issue("spiffe://sigil.test/sigil/server");
        TlsIdentity second = pki.issue("spiffe://sigil.test/sigil/server");
        AtomicReference<TlsIdentity> current = new AtomicReference<>(first);
        try (BundleEndpoint endpoint = serve(current::get)) {
            assertThat(presented(pki, endpoint.address())).isEqualTo(first.leaf());
            current.set(second);
            assertThat(presented(pki, endpoint.address())).isEqualTo(second.leaf());
        }
    }

    @Test
    void pemFilesServeTheWebProfileAndAreReloadedWhenRenewed() throws Exception {
        Path cert = dir.resolve("fullchain.pem");
        Path key = dir.resolve("privkey.pem");
        TlsIdentity first = pki.issue("spiffe://sigil.test/web");
        write(cert, key, first);
        try (BundleEndpoint endpoint = serve(TlsMaterial.fromPemFiles(cert, key))) {
            assertThat(presented(pki, endpoint.address())).isEqualTo(first.leaf());
            TlsIdentity renewed = pki.issue("spiffe://sigil.test/web");
            write(cert, key, renewed);
            Files.setLastModifiedTime(cert, FileTime.from(Instant.now().plusSeconds(5)));
            assertThat(presented(pki, endpoint.address())).isEqualTo(renewed.leaf());
        }
    }

    @Test
    void keyThatDoesNotMatchTheCertificateIsRefusedAtStart() throws Exception {
        Path cert = dir.resolve("fullchain.pem");
        Path key = dir.resolve("privkey.pem");
        TlsIdentity one = pki.issue("spiffe://sigil.test/a");
        TlsIdentity other = pki.issue("spiffe://sigil.test/b");
        Files.writeString(cert, pem(one.chain().toArray()));
        Files.writeString(key, pem(new JcaPKCS8Generator(other.privateKey(), null).generate()));
        assertThatThrownBy(() -> TlsMaterial.fromPemFiles(cert, key))
                .hasMessage("key_file " + key + " does not match the certificate in " + cert);
    }

    @Test
    void identityNeverPrintsItsKey() {
        TlsIdentity identity = pki.issue("spiffe://sigil.test/a");
        assertThat(identity.toString()).contains("key=<EC handle>").doesNotContain(identity.privateKey().toString());
    }

    private static void write(Path cert, Path key, TlsIdentity identity) throws IOException {
        Files.writeString(cert, pem(identity.chain().toArray()));
        Files.writeString(key, pem(new JcaPKCS8Generator(identity.privateKey(), null).generate()));
    }

    private static String pem(Object... objects) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (Object object : objects) {
                writer.writeObject(object);
            }
        }
        return text.toString();
    }
}
