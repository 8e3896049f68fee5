package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.workload.FakeWorkloadIdentities;
import dev.sigil.agent.workload.TestTrustDomain;
import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.agent.workload.WorkloadApiServer;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.X509SVID;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil agent api ...} against a real Workload API server on a temporary socket, attesting this
 * test JVM from the real /proc, backed by fake identities holding certificates of a test CA.
 */
class AgentApiCommandTest {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");

    @TempDir
    Path dir;
    private final TestTrustDomain domain = new TestTrustDomain("example.org");
    private final TestTrustDomain partner = new TestTrustDomain("partner.test");
    private final FakeWorkloadIdentities identities = new FakeWorkloadIdentities(domain);
    private X509Identity web;
    private WorkloadApiServer server;
    private Path socket;

    @BeforeEach
    void start() {
        web = domain.x509("/web", Set.of(partner.domain));
        identities.setEntries(new FakeWorkloadIdentities.Entry(Set.of(ownUid()), web));
        identities.setFederated(Map.of(partner.domain, partner.bundle()));
        socket = dir.resolve("agent/api.sock");
        server = WorkloadApiServer.create(WorkloadApiConfig.defaults().withSocketPath(socket), identities,
                List.of(WorkloadAttestor.unix(Path.of("/proc"), Path.of("/etc"))), Clock.systemUTC()).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(socket.toString());
        return sigilWithEnv(Map.of(), all.toArray(String[]::new));
    }

    private CliHarness.Result sigilWithEnv(Map<String, String> env, String... args) {
        return new CliHarness(env, dir).run(args);
    }

    @Test
    void fetchX509PrintsEachSvidWithHintExpiryAndBundleTrustDomains() {
        CliHarness.Result result = sigil("agent", "api", "fetch", "x509");

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).startsWith("Received 1 svid\n")
                .contains("SPIFFE ID        : " + WEB + "\n")
                .contains("Hint             : web\n")
                .contains("Expires at       : " + web.chain().get(0).getNotAfter().toInstant() + "\n")
                .contains("Bundle           : example.org (1 authority)\n")
                .contains("Federated bundle : spiffe://partner.test (1 authority)\n")
                .doesNotContain("PRIVATE KEY");
    }

    @Test
    void fetchX509AsJsonCarriesCertificatesButNeverTheKey() throws Exception {
        CliHarness.Result result = sigil("agent", "api", "fetch", "x509", "--output", "json");

        assertThat(result.exitCode()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        JsonNode svid = json.path("svids").get(0);
        assertThat(svid.path("spiffe_id").asText()).isEqualTo(WEB.toString());
        assertThat(svid.path("hint").asText()).isEqualTo("web");
        assertThat(svid.path("bundle_trust_domain").asText()).isEqualTo("example.org");
        assertThat(Pem.parseCertificates(svid.path("x509_svid_pem").asText(), "test")).containsExactlyElementsOf(web.chain());
        assertThat(Pem.parseCertificates(json.path("federated_bundles").path("spiffe://partner.test").asText(), "test"))
                .containsExactly(partner.ca);
        assertThat(result.out()).doesNotContain("PRIVATE KEY");
    }

    @Test
    void fetchX509WriteStoresChainOwnerOnlyKeyAndBundlesThatValidate() throws Exception {
        Path out = dir.resolve("svids");

        CliHarness.Result result = sigil("agent", "api", "fetch", "x509", "--write", out.toString());

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("wrote svid.0.pem, svid.0.key, bundle.0.pem, federated_bundle.0.0.pem to " + out);
        List<X509Certificate> chain = Pem.parseCertificates(Files.readString(out.resolve("svid.0.pem")), "svid.0.pem");
        List<X509Certificate> roots = Pem.parseCertificates(Files.readString(out.resolve("bundle.0.pem")), "bundle.0.pem");
        assertThat(chain).containsExactlyElementsOf(web.chain());
        assertThat(roots).containsExactly(domain.ca);
        assertThat(Pem.parseCertificates(Files.readString(out.resolve("federated_bundle.0.0.pem")), "federated")).containsExactly(partner.ca);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("svid.0.key")))).isEqualTo("rw-------");

        PKIXParameters parameters = new PKIXParameters(roots.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet()));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);

        String keyPem = Files.readString(out.resolve("svid.0.key"));
        assertThat(keyPem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                Base64.getMimeDecoder().decode(keyPem.replaceAll("-----[A-Z ]+-----", ""))));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(chain.get(0));
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signature)).as("the key belongs to the leaf certificate").isTrue();
    }

    @Test
    void fetchJwtPrintsOneSpiffeIdAndTokenLinePerSvid() throws Exception {
        CliHarness.Result result = sigil("agent", "api", "fetch", "jwt", "--audience", "db", "--audience", "cache");

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).startsWith(WEB + " ").endsWith("\n");
        assertThat(result.out().lines()).hasSize(1);
        SignedJWT token = SignedJWT.parse(result.out().strip().split(" ")[1]);
        assertThat(token.getJWTClaimsSet().getSubject()).isEqualTo(WEB.toString());
        assertThat(token.getJWTClaimsSet().getAudience()).containsExactly("db", "cache");
    }

    @Test
    void fetchJwtWithBundlesAsJsonAddsEachTrustDomainsJwks() throws Exception {
        CliHarness.Result result = sigil("agent", "api", "fetch", "jwt", "--audience", "db", "--bundles", "--output", "json");

        assertThat(result.exitCode()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.path("svids").get(0).path("spiffe_id").asText()).isEqualTo(WEB.toString());
        assertThat(json.path("bundles").path("spiffe://example.org").path("keys")).hasSize(1);
        assertThat(json.path("bundles").path("spiffe://partner.test").path("keys")).hasSize(1);
    }

    @Test
    void fetchJwtForAnotherSpiffeIdIsRefused() {
        CliHarness.Result result = sigil("agent", "api", "fetch", "jwt", "--audience", "db", "--spiffe-id", "spiffe://example.org/other");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).startsWith("sigil: the workload api refused this process: ").endsWith(" (PERMISSION_DENIED)\n");
    }

    @Test
    void fetchJwtWithoutAudienceIsAUsageError() {
        CliHarness.Result result = sigil("agent", "api", "fetch", "jwt");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--audience");
    }

    @Test
    void validateJwtPrintsSpiffeIdAndClaims() {
        String token = domain.jwt(WEB, List.of("db"), Instant.now().plus(Duration.ofMinutes(5)));

        CliHarness.Result result = sigil("agent", "api", "validate", "jwt", "--audience", "db", "--svid", token);

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).startsWith("SVID is valid.\nSPIFFE ID        : " + WEB + "\nClaims:\n")
                .contains("\"sub\" : \"" + WEB + "\"")
                .containsPattern("\"exp\" : \\d+,\\n");
    }

    @Test
    void validateJwtAsJsonHasSpiffeIdAndClaims() throws Exception {
        String token = domain.jwt(WEB, List.of("db"), Instant.now().plus(Duration.ofMinutes(5)));

        CliHarness.Result result = sigil("agent", "api", "validate", "jwt", "--audience", "db", "--svid", token, "--output", "json");

        assertThat(result.exitCode()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.path("spiffe_id").asText()).isEqualTo(WEB.toString());
        assertThat(json.path("claims").path("aud").asText()).isEqualTo("db");
        assertThat(json.path("claims").path("exp").isIntegralNumber()).isTrue();
    }

    @Test
    void validateJwtRefusesATokenForAnotherAudienceInOneLine() {
        String token = domain.jwt(WEB, List.of("db"), Instant.now().plus(Duration.ofMinutes(5)));

        CliHarness.Result result = sigil("agent", "api", "validate", "jwt", "--audience", "cache", "--svid", token);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("sigil: the workload api rejected the jwt-svid validation request: ")
                .endsWith(" (INVALID_ARGUMENT)\n");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void validateJwtRefusesATokenOfAnUnknownKey() {
        String forged = new TestTrustDomain("example.org").jwt(WEB, List.of("db"), Instant.now().plus(Duration.ofMinutes(5)));

        CliHarness.Result result = sigil("agent", "api", "validate", "jwt", "--audience", "db", "--svid", forged);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).startsWith("sigil: the workload api rejected the jwt-svid validation request: ")
                .endsWith(" (INVALID_ARGUMENT)\n").doesNotContain("\tat ");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void processWithoutIdentityIsToldItWasRefused() {
        identities.setEntries();

        CliHarness.Result result = sigil("agent", "api", "fetch", "x509");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("sigil: the workload api refused this process: no identity issued to caller pid "
                + ProcessHandle.current().pid()).endsWith(" (PERMISSION_DENIED)\n");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void fetchX509BeforeTheAgentSyncedEndsAtTheTimeout() {
        identities.setEntries();
        identities.setSynced(false);

        CliHarness.Result result = sigil("agent", "api", "fetch", "x509", "--timeout", "1s");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: the workload api at " + socket + " sent no x509-svids within 1s;"
                + " the agent may not have synced with the server yet (DEADLINE_EXCEEDED)\n");
    }

    @Test
    void missingSocketIsReportedAsUnreachable() {
        Path missing = dir.resolve("nowhere/api.sock");

        CliHarness.Result result = sigilWithEnv(Map.of(), "agent", "api", "fetch", "x509", "--socket", missing.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: cannot reach the workload api at " + missing + ": "
                + "no such file or directory (is 'sigil agent run' running?)\n");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void socketWithoutAgentBehindItIsReportedAsUnreachable() throws Exception {
        Path stale = Files.createFile(dir.resolve("stale.sock"));

        CliHarness.Result result = sigilWithEnv(Map.of(), "agent", "api", "fetch", "jwt", "--audience", "db", "--socket", stale.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: cannot reach the workload api at " + stale + ": "
                + "connection refused (is 'sigil agent run' running?)\n");
    }

    @Test
    void spiffeEndpointSocketIsUsedWithoutSocketFlag() {
        CliHarness.Result tripleSlash = sigilWithEnv(Map.of("SPIFFE_ENDPOINT_SOCKET", "unix://" + socket), "agent", "api", "fetch", "x509");
        CliHarness.Result singleSlash = sigilWithEnv(Map.of("SPIFFE_ENDPOINT_SOCKET", "unix:" + socket), "agent", "api", "fetch", "jwt",
                "--audience", "db");

        assertThat(tripleSlash.err()).isEmpty();
        assertThat(tripleSlash.out()).contains("SPIFFE ID        : " + WEB + "\n");
        assertThat(singleSlash.err()).isEmpty();
        assertThat(singleSlash.out()).startsWith(WEB + " ");
    }

    @Test
    void socketFlagWinsOverSpiffeEndpointSocket() {
        CliHarness.Result result = sigilWithEnv(Map.of("SPIFFE_ENDPOINT_SOCKET", "unix:///nonexistent/api.sock"),
                "agent", "api", "fetch", "x509", "--socket", socket.toString());

        assertThat(result.exitCode()).isZero();
    }

    @Test
    void spiffeEndpointSocketOfAnotherSchemeIsRefused() {
        CliHarness.Result result = sigilWithEnv(Map.of("SPIFFE_ENDPOINT_SOCKET", "tcp://127.0.0.1:8081"), "agent", "api", "fetch", "x509");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: SPIFFE_ENDPOINT_SOCKET 'tcp://127.0.0.1:8081' uses scheme 'tcp';"
                + " sigil reaches the workload api only over a unix socket; use unix:///path/to/api.sock\n");
    }

    @Test
    void decodedSvidNeverShowsItsPrivateKey() throws Exception {
        X509SVID proto = X509SVID.newBuilder().setSpiffeId(WEB.toString())
                .setX509Svid(ByteString.copyFrom(web.chain().get(0).getEncoded()))
                .setX509SvidKey(ByteString.copyFrom(web.privateKeyPkcs8())).build();

        String text = new FetchX509Command.Svid(proto, web.chain(), List.of(domain.ca)).toString();

        assertThat(text).contains(WEB.toString()).contains("<redacted>").doesNotContain("x509_svid_key").doesNotContain("contents");
    }

    private static Selector ownUid() {
        try {
            return Selector.of("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
