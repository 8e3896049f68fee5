package dev.sigil.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.SigilException;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigilServerTest {
    private static final String NODE = "spiffe://example.org/sigil/agent/join_token/node1";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    private ServerConfig config(boolean adminTcp) throws IOException {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://localhost
                bundle_endpoint:
                  port: 0
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                %s
                """.formatted(dir.resolve("data"), adminTcp ? "admin:\n  tcp:\n    address: 127.0.0.1\n    port: 0\n" : ""));
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
    }

    private RawHttp.Reply post(SigilServer server, String path, String body) throws IOException {
        return RawHttp.unix(server.admin().socketPath(), "POST", path, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private void createEntry(SigilServer server, String spiffeId, boolean admin) throws IOException {
        RawHttp.Reply reply = post(server, "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "selectors": [{"type": "unix", "value": "uid:%d"}],
                 "owner": "team-ops", "admin": %s}""".formatted(spiffeId, NODE, Math.abs(spiffeId.hashCode()), admin));
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    }

    /** Mints an X.509-SVID for a key made here, through the admin API, as a workload's tooling would. */
    private TlsIdentity svid(SigilServer server, String spiffeId) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=ignored"), pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
        RawHttp.Reply reply = post(server, "/v1/svids/x509", json.writeValueAsString(Map.of("spiffe_id", spiffeId,
                "csr", Pem.encode("CERTIFICATE REQUEST", csr))));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        List<X509Certificate> chain = Pem.parseCertificates(json.readTree(reply.body()).path("cert_chain_pem").asText(), "reply");
        return new TlsIdentity(chain, pair.getPrivate());
    }

    private long auditRecords(SigilServer server) throws IOException {
        JsonNode verify = json.readTree(post(server, "/v1/audit/verify", "{}").body());
        assertThat(verify.path("intact").asBoolean()).isTrue();
        return verify.path("records").asLong();
    }

    @Test
    void aJsonBodyWithADuplicateKeyIsRefusedAndCreatesNothing() throws Exception {
        try (SigilServer server = SigilServer.start(config(false))) {
            RawHttp.Reply reply = post(server, "/v1/entries", """
                    {"spiffe_id": "spiffe://example.org/web", "parent_id": "%s", "selectors": [{"type": "unix", "value": "uid:1"}],
                     "owner": "team-ops", "admin": false, "admin": true}""".formatted(NODE));
            assertThat(reply.status()).as(reply.body()).isEqualTo(400);
            assertThat(reply.body()).contains("invalid_argument").containsIgnoringCase("duplicate").contains("admin");
            RawHttp.Reply entries = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/entries");
            assertThat(json.readTree(entries.body()).path("entries")).isEmpty();
        }
    }

    @Test
    void closingFromTwoThreadsAtOnceReturnsOnlyWhenEverythingIsClosed() throws Exception {
        ServerConfig config = config(false);
        for (int round = 0; round < 3; round++) {
            SigilServer server = SigilServer.start(config);
            java.net.InetSocketAddress agentApi = server.agentApiAddress();
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            Runnable stopper = () -> {
                try {
                    together.await();
                    server.close();
                    // whichever thread returns first, the listeners are already gone
                    try (java.net.Socket socket = new java.net.Socket()) {
                        socket.connect(agentApi, 1000);
                        failures.add(new AssertionError("agent api still accepts connections after close() returned"));
                    } catch (IOException expected) {
                        // refused: closed
                    }
                    // and the datastore, closed last: SQLite removes its write-ahead log when its last connection closes
                    try (var files = Files.list(dir.resolve("data"))) {
                        List<String> wal = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith("-wal")).toList();
                        if (!wal.isEmpty()) {
                            failures.add(new AssertionError("the datastore is still open after close() returned: " + wal));
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            Thread a = new Thread(stopper);
            Thread b = new Thread(stopper);
            a.start();
            b.start();
            a.join(30_000);
            b.join(30_000);
            assertThat(failures).isEmpty();
            server.close(); // a third close is a no-op
        }
    }

    @Test
    void adminApiOverMutualTlsServesOnlySvidsOfAdminEntries() throws Exception {
        try (SigilServer server = SigilServer.start(config(true))) {
            createEntry(server, "spiffe://example.org/ops/admin", true);
            createEntry(server, "spiffe://example.org/ops/reader", false);
            X509Certificate root = server.authority().bundle().x509Authorities().get(0);
            var address = server.admin().tcpAddress().orElseThrow();

            RawHttp.Reply asAdmin = RawHttp.tls(TestPki.clientContext(svid(server, "spiffe://example.org/ops/admin"), root),
                    address, "GET", "/v1/entries");
            RawHttp.Reply asReader = RawHttp.tls(TestPki.clientContext(svid(server, "spiffe://example.org/ops/reader"), root),
                    address, "GET", "/v1/entries");

            assertThat(asAdmin.status()).isEqualTo(200);
            assertThat(json.readTree(asAdmin.body()).path("entries")).hasSize(2);
            assertThat(asReader.status()).isEqualTo(403);
            assertThat(asReader.body()).contains("permission_denied");
        }
    }

    @Test
    void adminApiOverTcpRefusesClientsWithoutACertificate() throws Exception {
        try (SigilServer server = SigilServer.start(config(true))) {
            X509Certificate root = server.authority().bundle().x509Authorities().get(0);
            var address = server.admin().tcpAddress().orElseThrow();
            javax.net.ssl.SSLContext anonymous = javax.net.ssl.SSLContext.getInstance("TLS");
            java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root);
            javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
            factory.init(trust);
            anonymous.init(null, factory.getTrustManagers(), null);

            assertThatThrownBy(() -> RawHttp.tls(anonymous, address, "GET", "/v1/entries")).isInstanceOf(IOException.class);
        }
    }

    @Test
    void serverWithADatastoreButMissingCaKeysRefusesToStart() throws Exception {
        ServerConfig config = config(false);
        String rootBefore;
        try (SigilServer server = SigilServer.start(config)) {
            rootBefore = server.authority().bundle().x509AuthoritiesPem();
        }
        try (Stream<Path> keys = Files.list(config.dataDir().resolve("keys"))) {
            for (Path key : keys.toList()) {
                Files.delete(key);
            }
        }

        assertThatThrownBy(() -> SigilServer.start(config))
                .isInstanceOf(SigilException.class)
                .hasMessageContaining("key");
        assertThat(config.admin().socketPath()).doesNotExist();
        try (var datastore = dev.sigil.server.datastore.Datastore.open(config.datastore().toDatastoreConfig())) {
            // the journal still names the original root: nothing was silently replaced
            int journalRows = datastore.read(c -> {
                try (var rows = c.createStatement().executeQuery("SELECT count(*) FROM authority_journal")) {
                    rows.next();
                    return rows.getInt(1);
                }
            });
            assertThat(journalRows).as("the x509, jwt and wit authorities of the first start").isEqualTo(3);
        }
        assertThat(rootBefore).isNotBlank();
    }

    @Test
    void malformedCsrsAndBodiesAreClientErrorsThatChangeNothing() throws Exception {
        try (SigilServer server = SigilServer.start(config(false))) {
            long before = auditRecords(server);

            RawHttp.Reply garbageCsr = post(server, "/v1/svids/x509", """
                    {"spiffe_id": "spiffe://example.org/web", "csr": "-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----"}""");
            RawHttp.Reply noCsr = post(server, "/v1/svids/x509", "{\"spiffe_id\": \"spiffe://example.org/web\", \"csr\": \"\"}");
            RawHttp.Reply foreignId = post(server, "/v1/svids/jwt", "{\"spiffe_id\": \"spiffe://evil.org/web\", \"audience\": [\"a\"]}");
            RawHttp.Reply noAudience = post(server, "/v1/svids/jwt", "{\"spiffe_id\": \"spiffe://example.org/web\", \"audience\": []}");
            RawHttp.Reply brokenJson = post(server, "/v1/entries", "{\"spiffe_id\": ");
            RawHttp.Reply badId = post(server, "/v1/entries", """
                    {"spiffe_id": "spiffe://example.org/a//b", "parent_id": "%s", "selectors": [{"type": "unix", "value": "uid:1"}], "owner": "o"}"""
                    .formatted(NODE));
            RawHttp.Reply noOwner = post(server, "/v1/entries", """
                    {"spiffe_id": "spiffe://example.org/a", "parent_id": "%s", "selectors": [{"type": "unix", "value": "uid:1"}]}"""
                    .formatted(NODE));

            for (RawHttp.Reply reply : List.of(garbageCsr, noCsr, foreignId, noAudience, brokenJson, badId, noOwner)) {
                assertThat(reply.status()).as(reply.body()).isEqualTo(400);
                assertThat(json.readTree(reply.body()).path("error").path("code").asText()).isEqualTo("invalid_argument");
                assertThat(reply.body()).doesNotContain("Exception").doesNotContain("\tat ");
            }
            assertThat(badId.body()).contains("empty segment");
            assertThat(foreignId.body()).contains("evil.org");
            assertThat(auditRecords(server)).isEqualTo(before);
        }
    }

    @Test
    void appliedPolicyIsUsedByTheEngineAndSurvivesARestart() throws Exception {
        String policy = """
                rules:
                  - name: web-to-api
                    effect: allow
                    subject: {spiffe_id: spiffe://example.org/web}
                    actions: [token:exchange]
                    resources: [https://api]
                """;
        dev.sigil.server.policy.PolicyRequest request = new dev.sigil.server.policy.PolicyRequest(
                dev.sigil.core.spiffeid.SpiffeId.parse("spiffe://example.org/web"), java.util.Set.of(), 0,
                Optional.empty(), "token:exchange", "https://api", List.of(), Optional.empty(), List.of(),
                java.time.Instant.now(), Map.of());
        try (SigilServer server = SigilServer.start(config(false))) {
            assertThat(server.policyEngine().decide(request)).isInstanceOf(dev.sigil.server.policy.Decision.Deny.class);
            RawHttp.Reply applied = RawHttp.unix(server.admin().socketPath(), "PUT", "/v1/policy", "application/json",
                    json.writeValueAsString(Map.of("yaml", policy)).getBytes(StandardCharsets.UTF_8));
            assertThat(applied.status()).as(applied.body()).isEqualTo(200);
            assertThat(server.policyEngine().decide(request)).isInstanceOf(dev.sigil.server.policy.Decision.Allow.class);
        }
        try (SigilServer restarted = SigilServer.start(config(false))) {
            assertThat(restarted.policyEngine().decide(request)).isInstanceOf(dev.sigil.server.policy.Decision.Allow.class);
        }
    }

    @Test
    void leakedJwtIsFoundByItsKeyedHashAcrossRestartsAndTheCheckpointKeyIsExported() throws Exception {
        ServerConfig config = config(false);
        String token;
        String pem;
        try (SigilServer server = SigilServer.start(config)) {
            RawHttp.Reply minted = post(server, "/v1/svids/jwt", "{\"spiffe_id\": \"spiffe://example.org/web\", \"audience\": [\"db\"]}");
            assertThat(minted.status()).as(minted.body()).isEqualTo(200);
            token = json.readTree(minted.body()).path("token").asText();
            pem = json.readTree(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit/checkpoint-key").body()).path("pem").asText();
            assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----\n");

            JsonNode byWorkload = json.readTree(RawHttp.unix(server.admin().socketPath(), "GET",
                    "/v1/audit?workload=spiffe://example.org/web&action=svid.jwt").body());
            assertThat(byWorkload.path("results")).hasSize(1);
            assertThat(byWorkload.path("results").get(0).path("details").asText()).contains("token_hmac").doesNotContain(token);
        }
        try (SigilServer restarted = SigilServer.start(config)) {
            RawHttp.Reply found = post(restarted, "/v1/audit/find-token", json.writeValueAsString(Map.of("token", token)));
            assertThat(found.status()).as(found.body()).isEqualTo(200);
            JsonNode results = json.readTree(found.body()).path("results");
            assertThat(results).hasSize(1);
            assertThat(results.get(0).path("action").asText()).isEqualTo("svid.jwt.issue");
            assertThat(results.get(0).path("subject").asText()).isEqualTo("spiffe://example.org/web");
            assertThat(json.readTree(post(restarted, "/v1/audit/find-token", "{\"token\": \"not-a-token\"}").body()).path("results")).isEmpty();
            assertThat(json.readTree(RawHttp.unix(restarted.admin().socketPath(), "GET", "/v1/audit/checkpoint-key").body())
                    .path("pem").asText()).isEqualTo(pem);
            RawHttp.Reply badTime = RawHttp.unix(restarted.admin().socketPath(), "GET", "/v1/audit?since=yesterday");
            assertThat(badTime.status()).isEqualTo(400);
            assertThat(badTime.body()).contains("RFC 3339");
        }
    }
}
