package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.attestor.X509PopAttestorClient;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.testkit.MutableClock;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class X509PopAttestorTest extends NodeAttestorContract {
    private static final TrustDomain TD = new TrustDomain("example.org");
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private final TestPki nodeCa = TestPki.create("nodes.example", clock.instant());
    private final X509PopAttestor attestor = new X509PopAttestor(TD, List.of(nodeCa.caCertificate()), clock, new SecureRandom());

    @Override
    protected NodeAttestor server() {
        return attestor;
    }

    @Override
    protected NodeAttestorClient goodClient() {
        TlsIdentity node = nodeCa.issue("CN=node-1,O=Sigil Test", "spiffe://nodes.example/node-1", Duration.ofHours(1));
        return new X509PopAttestorClient(node.chain(), node.privateKey());
    }

    @Override
    protected NodeAttestorClient impostor() {
        TlsIdentity node = nodeCa.issue("spiffe://nodes.example/node-1");
        TlsIdentity other = nodeCa.issue("spiffe://nodes.example/node-2");
        return new X509PopAttestorClient(node.chain(), other.privateKey());
    }

    @Override
    protected List<String> secretsOf(NodeAttestorClient client) {
        return List.of();
    }

    @Test
    void selectorsDescribeTheNodeCertificate() throws Exception {
        TlsIdentity node = nodeCa.issue("CN=node-1,O=Sigil Test", "spiffe://nodes.example/node-1", Duration.ofHours(1));
        X509PopAttestorClient client = new X509PopAttestorClient(node.chain(), node.privateKey());

        AttestationStep result = drive(attestor, client, client.evidence()).result();

        String leaf = sha256(node.leaf());
        assertThat(result).isEqualTo(new AttestationStep.Attested(TD.id("/sigil/agent/x509pop/" + leaf), List.of(
                Selector.of("x509pop", "fingerprint:" + leaf),
                Selector.of("x509pop", "ca:fingerprint:" + sha256(nodeCa.caCertificate())),
                Selector.of("x509pop", "subject:cn:node-1"),
                Selector.of("x509pop", "san:dns:localhost"),
                Selector.of("x509pop", "san:uri:spiffe://nodes.example/node-1")), 2));
    }

    @Test
    void certificateOfAnUntrustedCaIsRefusedWithoutChallenge() {
        TlsIdentity stranger = TestPki.create("elsewhere.example", clock.instant()).issue("spiffe://elsewhere.example/n");

        AttestationStep result = attestor.begin(new X509PopAttestorClient(stranger.chain(), stranger.privateKey()).evidence(), "test-agent");

        assertThat(result).isInstanceOf(AttestationStep.Refused.class);
        assertThat(((AttestationStep.Refused) result).reason()).contains("does not chain to a trusted node ca");
    }

    @Test
    void expiredNodeCertificateIsRefused() {
        TlsIdentity node = nodeCa.issue("spiffe://nodes.example/node-1", Duration.ofMinutes(10));
        clock.advance(Duration.ofMinutes(11));

        assertThat(attestor.begin(new X509PopAttestorClient(node.chain(), node.privateKey()).evidence(), "test-agent"))
                .isInstanceOf(AttestationStep.Refused.class);
    }

    @Test
    void signatureWithoutTheDomainSeparatorIsRefused() throws Exception {
        TlsIdentity node = nodeCa.issue("spiffe://nodes.example/node-1");
        X509PopAttestorClient client = new X509PopAttestorClient(node.chain(), node.privateKey());
        AttestationStep.Challenge challenge = (AttestationStep.Challenge) attestor.begin(client.evidence(), "test-agent");
        java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSA");
        signer.initSign(node.privateKey());
        signer.update(challenge.challenge());

        assertThat(challenge.answer(signer.sign())).isInstanceOf(AttestationStep.Refused.class);
    }

    @Test
    void agentLoadsItsCertificateAndKeyFromPemFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        TlsIdentity node = nodeCa.issue("CN=node-3,O=Sigil Test", "spiffe://nodes.example/node-3", Duration.ofHours(1));
        java.nio.file.Path cert = dir.resolve("node.pem");
        java.nio.file.Path key = dir.resolve("node.key");
        java.nio.file.Files.writeString(cert, dev.sigil.core.crypto.Pem.encodeCertificates(node.chain()));
        java.nio.file.Files.writeString(key, dev.sigil.core.crypto.Pem.encode("PRIVATE KEY", node.privateKey().getEncoded()));

        X509PopAttestorClient client = X509PopAttestorClient.load(cert, key);

        assertThat(drive(attestor, client, client.evidence()).result()).isInstanceOf(AttestationStep.Attested.class);
    }

    @Test
    void missingKeyFileIsNamedInTheError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        TlsIdentity node = nodeCa.issue("spiffe://nodes.example/node-3");
        java.nio.file.Path cert = dir.resolve("node.pem");
        java.nio.file.Files.writeString(cert, dev.sigil.core.crypto.Pem.encodeCertificates(node.chain()));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> X509PopAttestorClient.load(cert, dir.resolve("absent.key")))
                .hasMessageContaining("cannot read x509pop key file " + dir.resolve("absent.key"));
    }

    @Test
    void clientToStringHidesTheKey() {
        TlsIdentity node = nodeCa.issue("spiffe://nodes.example/node-1");
        String key = Base64.getEncoder().encodeToString(node.privateKey().getEncoded());

        assertThat(new X509PopAttestorClient(node.chain(), node.privateKey()).toString()).doesNotContain(key).contains("redacted");
    }

    private static String sha256(X509Certificate certificate) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }
}
