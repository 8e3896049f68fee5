package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sigil as an operator uses it: a real server process on the embedded default, driven only through
 * the CLI, its SVIDs checked by verifiers that share no code with Sigil (the JDK's PKIX validator for
 * X.509-SVIDs, Nimbus against the JWKS the bundle endpoint serves), and a kill -9 in the middle of
 * writes that loses neither CA material nor audit records.
 */
class EndToEndTest {
    private static final String WEB = "spiffe://sigil.test/web";
    private static final String NODE = "spiffe://sigil.test/sigil/agent/join_token/node1";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void operatorRegistersAWorkloadAndMintsSvidsThatIndependentVerifiersAccept() throws Exception {
        Path data = dir.resolve("data");
        CliHarness cli = new CliHarness(Map.of(), dir);
        try (ServerProcess server = ServerProcess.start(data, dir)) {
            server.awaitHealthy(cli, Duration.ofSeconds(60));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");

            CliHarness.Result created = run(cli, "entry", "create", "--data-dir", data.toString(), "--spiffe-id", WEB,
                    "--parent-id", NODE, "--selector", "unix:uid:1000", "--selector", "unix:gid:1000", "--owner", "team-web",
                    "--dns", "web.internal", "--output", "json");
            JsonNode entry = json.readTree(created.out());
            assertThat(entry.path("spiffe_id").asText()).isEqualTo(WEB);
            assertThat(entry.path("owner").asText()).isEqualTo("team-web");

            JsonNode found = json.readTree(run(cli, "entry", "show", "--data-dir", data.toString(), "--selector", "unix:uid:1000",
                    "--selector", "unix:gid:1000", "--selector", "unix:user:web", "--match", "subset", "--output", "json").out());
            assertThat(found.path("entries")).hasSize(1);
            assertThat(found.path("entries").get(0).path("id").asText()).isEqualTo(entry.path("id").asText());

            CliHarness.Result duplicate = cli.run("entry", "create", "--data-dir", data.toString(), "--spiffe-id", WEB,
                    "--parent-id", NODE, "--selector", "unix:uid:1000", "--selector", "unix:gid:1000", "--owner", "team-web");
            assertThat(duplicate.exitCode()).isNotZero();
            assertThat(duplicate.err()).contains("already_exists").hasLineCount(1);

            // X.509-SVID: chain validates with the JDK's PKIX validator against the bundle the endpoint serves.
            Path svidDir = dir.resolve("svid");
            run(cli, "x509", "mint", "--data-dir", data.toString(), "--spiffe-id", WEB, "--ttl", "10m", "--write", svidDir.toString());
            List<X509Certificate> chain = certificates(Files.readString(svidDir.resolve("svid.pem")));
            List<X509Certificate> roots = certificates(Files.readString(svidDir.resolve("bundle.pem")));
            HttpClient https = httpsTrusting(roots);
            JsonNode servedBundle = json.readTree(get(https, server.bundlePort, "/"));
            assertThat(servedBundle.path("spiffe_sequence").asLong()).isPositive();
            List<X509Certificate> servedRoots = new ArrayList<>();
            for (JWK key : JWKSet.parse(servedBundle.toString()).getKeys()) {
                if ("x509-svid".equals(key.getKeyUse().getValue())) {
                    servedRoots.add(certificates(pem(key.getX509CertChain().get(0).decode())).get(0));
                }
            }
            assertThat(servedRoots).containsExactlyInAnyOrderElementsOf(roots);
            validate(chain, servedRoots);
            X509Certificate leaf = chain.get(0);
            assertThat(uriSans(leaf)).containsExactly(WEB);
            assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
            assertThat(leaf.getKeyUsage()[0]).isTrue();
            assertThat(leaf.getKeyUsage()[5]).isFalse();
            assertThat(leaf.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
            assertThat(leaf.getNotAfter().toInstant()).isBefore(java.time.Instant.now().plus(Duration.ofMinutes(11)));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(svidDir.resolve("svid.key")))).isEqualTo("rw-------");
            assertKeyMatches(Files.readString(svidDir.resolve("svid.key")), leaf);

            // JWT-SVID: verifies with Nimbus against the JWKS named by OIDC discovery.
            String token = run(cli, "jwt", "mint", "--data-dir", data.toString(), "--spiffe-id", WEB,
                    "--audience", "https://api.example").out().trim();
            JsonNode discovery = json.readTree(get(https, server.bundlePort, "/.well-known/openid-configuration"));
            String jwksPath = URI.create(discovery.path("jwks_uri").asText()).getPath();
            JWKSet jwks = JWKSet.parse(get(https, server.bundlePort, jwksPath));
            DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
            processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.ES256, new ImmutableJWKSet<>(jwks)));
            JWTClaimsSet claims = processor.process(token, null);
            assertThat(claims.getSubject()).isEqualTo(WEB);
            assertThat(claims.getAudience()).containsExactly("https://api.example");
            assertThat(claims.getExpirationTime()).isNotNull();
            assertThat(SignedJWT.parse(token).getHeader().getKeyID()).isNotBlank();

            JsonNode audit = json.readTree(run(cli, "audit", "verify", "--data-dir", data.toString(), "--output", "json").out());
            assertThat(audit.path("intact").asBoolean()).isTrue();
            assertThat(audit.path("records").asLong()).isGreaterThanOrEqualTo(6);
        }
    }

    @Test
    void killDashNineDuringWritesLosesNoCaMaterialOrAuditRecords() throws Exception {
        Path data = dir.resolve("data");
        CliHarness cli = new CliHarness(Map.of(), dir);
        String bundleBefore;
        AtomicInteger acknowledged = new AtomicInteger();
        try (ServerProcess server = ServerProcess.start(data, dir)) {
            server.awaitHealthy(cli, Duration.ofSeconds(60));
            bundleBefore = run(cli, "bundle", "show", "--data-dir", data.toString(), "--format", "pem").out();
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    CliHarness.Result result = cli.run("entry", "create", "--data-dir", data.toString(),
                            "--spiffe-id", "spiffe://sigil.test/crash/" + i, "--parent-id", NODE, "--selector", "unix:uid:" + i,
                            "--owner", "team-crash");
                    if (result.exitCode() != 0) {
                        return;
                    }
                    acknowledged.incrementAndGet();
                }
            });
            writer.start();
            while (acknowledged.get() < 20) {
                Thread.sleep(20);
            }
            server.kill();
            writer.join();
        }
        try (ServerProcess restarted = ServerProcess.start(data, dir)) {
            restarted.awaitHealthy(cli, Duration.ofSeconds(60));
            assertThat(run(cli, "bundle", "show", "--data-dir", data.toString(), "--format", "pem").out()).isEqualTo(bundleBefore);
            JsonNode audit = json.readTree(run(cli, "audit", "verify", "--data-dir", data.toString(), "--output", "json").out());
            assertThat(audit.path("intact").asBoolean()).as(audit.toString()).isTrue();
            JsonNode entries = json.readTree(run(cli, "entry", "show", "--data-dir", data.toString(), "--owner", "team-crash",
                    "--output", "json").out());
            // Every acknowledged create survived; at most the one in flight at the kill may also have committed.
            assertThat(entries.path("entries").size()).isBetween(acknowledged.get(), acknowledged.get() + 1);
        }
    }

    private static CliHarness.Result run(CliHarness cli, String... args) {
        CliHarness.Result result = cli.run(args);
        assertThat(result.exitCode()).as("sigil %s: %s", String.join(" ", args), result.err()).isZero();
        return result;
    }

    private static List<X509Certificate> certificates(String pem) throws Exception {
        Collection<? extends java.security.cert.Certificate> parsed = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        return parsed.stream().map(X509Certificate.class::cast).toList();
    }

    private static String pem(byte[] der) {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END CERTIFICATE-----\n";
    }

    private static void validate(List<X509Certificate> chain, List<X509Certificate> roots) throws Exception {
        Set<TrustAnchor> anchors = new java.util.HashSet<>();
        roots.forEach(root -> anchors.add(new TrustAnchor(root, null)));
        PKIXParameters parameters = new PKIXParameters(anchors);
        parameters.setRevocationEnabled(false);
        CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
        CertPathValidator.getInstance("PKIX").validate(path, parameters);
    }

    private static List<String> uriSans(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().filter(san -> (Integer) san.get(0) == 6)
                .map(san -> (String) san.get(1)).toList();
    }

    private static void assertKeyMatches(String keyPem, X509Certificate leaf) throws Exception {
        String base64 = keyPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(leaf.getPublicKey());
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signature)).isTrue();
    }

    /** An HTTPS client that trusts only the trust domain's roots (the bundle endpoint serves the server's SVID). */
    private static HttpClient httpsTrusting(List<X509Certificate> roots) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root" + i, roots.get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static String get(HttpClient client, int port, String path) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }
}
