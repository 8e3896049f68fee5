package dev.sigil.server.agent.attestor.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.Agent;
import dev.sigil.agent.AgentException;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.attestor.TpmAttestorClient;
import dev.sigil.agent.attestor.TpmTools;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.TpmAnswer;
import dev.sigil.proto.agent.v1.TpmChallenge;
import dev.sigil.proto.agent.v1.TpmQuote;
import dev.sigil.server.SigilServer;
import dev.sigil.server.agent.Credentials;
import dev.sigil.server.agent.DriftEvent;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.Swtpm;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TPM node attestation end to end: software TPMs (swtpm, EK certificates from a test manufacturer CA),
 * a real server with the {@code tpm} attestor, and real agents talking to the TPMs through tpm2-tools.
 * Every bad input goes through the real Attest stream and is refused with its precise reason; PCR 16
 * extended on a running node is node drift that revokes what its workloads hold.
 */
class TpmAttestationEndToEndTest {
    private static final String ZERO = "0".repeat(64);
    private static final String WORKLOAD = "spiffe://example.org/billing";
    private static final String REPORTS = "spiffe://example.org/reports";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    static Path shared;
    private static Swtpm node;
    private static Swtpm sameVendor;
    private static Swtpm otherVendor;

    @TempDir
    Path dir;
    private static SigilServer server;
    private static final LinkedBlockingQueue<DriftEvent> drifts = new LinkedBlockingQueue<>();
    private static final AtomicInteger lastTrustLevel = new AtomicInteger(-1);

    @BeforeAll
    static void manufactureAndStart() throws Exception {
        Swtpm.assumeAvailable();
        node = Swtpm.start(Files.createDirectories(shared.resolve("node")), shared.resolve("vendor-ca"));
        sameVendor = Swtpm.start(Files.createDirectories(shared.resolve("same")), shared.resolve("vendor-ca"));
        otherVendor = Swtpm.start(Files.createDirectories(shared.resolve("other")), shared.resolve("untrusted-ca"));
        startServer(Files.createDirectories(shared.resolve("server")));
    }

    @AfterAll
    static void scrap() {
        if (server != null) {
            server.close();
        }
        for (Swtpm tpm : new Swtpm[] {node, sameVendor, otherVendor}) {
            if (tpm != null) {
                tpm.close();
            }
        }
    }

    private static void startServer(Path dir) throws Exception {
        Path bundle = dir.resolve("ek-cas.pem");
        Files.writeString(bundle, node.caBundlePem());
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                key_manager:
                  type: memory
                jwt:
                  issuer: https://localhost
                token_endpoint:
                  port: 0
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                node_attestors:
                  tpm:
                    ek_ca_bundle_file: %s
                    pcr_selection: [0, 7, 16]
                    quote_interval: 1s
                    pcr_policies:
                      - name: golden
                        pcrs:
                          16: ["%s"]
                """.formatted(dir.resolve("data"), bundle, ZERO));
        // everything is allowed but a milder drift response, so node drift is answered with revoke;
        // the trust level policy saw last is kept
        PolicyEngine policy = request -> {
            if (request.action().startsWith("drift:")) {
                return new Decision.Deny(List.of("no mild response"));
            }
            lastTrustLevel.set(request.trustLevel());
            return new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        };
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), new SigilServer.Options(Optional.of(policy), List.of(), drifts::add));
    }

    @Test
    void nodeJoinsWithTpmSelectorsAndTrustLevelThreeAndKeepsQuoting() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti()); Agent agent = agent(new TpmAttestorClient(tpm))) {
            agent.start();

            String agentId = agent.svid().orElseThrow().spiffeId().toString();
            assertThat(agentId).matches("spiffe://example\\.org/sigil/agent/tpm/[0-9a-f]{64}");
            String ekHash = agentId.substring(agentId.lastIndexOf('/') + 1);
            JsonNode registered = agentRecord(agentId);
            assertThat(registered.path("trust_level").asInt()).isEqualTo(3);
            List<String> selectors = new java.util.ArrayList<>();
            registered.path("selectors").forEach(s -> selectors.add(s.path("type").asText() + ":" + s.path("value").asText()));
            assertThat(selectors).containsExactlyInAnyOrder("tpm:ek_pubhash:" + ekHash, "tpm:ekcert_subject:CN=unknown",
                    "tpm:pcr:0:" + ZERO, "tpm:pcr:7:" + ZERO, "tpm:pcr:16:" + ZERO, "tpm:policy:golden");

            Eventually.within(Duration.ofSeconds(10), () -> assertThat(quotes(agentId, "success")).hasSizeGreaterThanOrEqualTo(2));
            assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
            // sigil agent show (the admin API) tells when the node last proved its state: after it attested
            JsonNode shown = agentRecord(agentId);
            assertThat(java.time.Instant.parse(shown.path("last_quote_at").asText()))
                    .isAfter(java.time.Instant.parse(shown.path("first_attested_at").asText()));
        }
    }

    @Test
    void pcrExtendedOnARunningNodeIsNodeDriftThatRevokesItsWorkloadsCredentialsAndTheAgent() throws Exception {
        try (Swtpm drifting = Swtpm.start(Files.createDirectories(dir.resolve("drifting")), shared.resolve("vendor-ca"));
             TpmTools tpm = new TpmTools(drifting.tcti()); Agent agent = agent(new TpmAttestorClient(tpm))) {
            agent.start();
            String agentId = agent.svid().orElseThrow().spiffeId().toString();
            admin("POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-a", "selectors": [{"type": "unix", "value": "uid:1000"}]}"""
                    .formatted(WORKLOAD, agentId));
            Credentials held = exchange(WORKLOAD);
            assertThat(held.tokenActive(server)).isTrue();
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(quotes(agentId, "success")).isNotEmpty());

            drifting.extendPcr(16, "ab".repeat(32));
            long extended = System.nanoTime();

            DriftEvent event = drifts.poll(5, TimeUnit.SECONDS);
            assertThat(event).as("node drift delivered within a quote interval and 2 s").isNotNull();
            assertThat(event.reason()).isEqualTo(DriftEvent.Reason.NODE_DRIFT);
            assertThat(event.spiffeIds()).containsExactlyInAnyOrder(SpiffeId.parse(WORKLOAD), SpiffeId.parse(agentId));
            Eventually.within(Duration.ofSeconds(2), () -> {
                assertThat(held.tokenActive(server)).as("introspection after node drift").isFalse();
                assertThat(held.tokenMarked(server)).as("the token's status list bit after node drift").isTrue();
            });
            assertThat(System.nanoTime() - extended).as("pcr extend to revocation").isLessThan(TimeUnit.SECONDS.toNanos(3));
            assertThat(admin("GET", "/v1/agents", null).toString()).doesNotContain(agentId);

            String quoteRecords = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=node.quote").body();
            assertThat(quoteRecords).contains(event.driftId()).contains("pcr 16 is");
            String driftRecords = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=node.drift").body();
            assertThat(driftRecords).contains(event.driftId()).contains(WORKLOAD);
            String responses = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=drift.respond").body();
            assertThat(responses).contains(event.driftId()).contains("revoke");

            // the agent is refused, attests again, and is refused by the pcr policy: it stops
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(agent.state()).isInstanceOfSatisfying(AgentState.Stopped.class,
                    stopped -> assertThat(stopped.reason()).contains("re-attestation was refused", "meet no pcr policy", "pcr 16 is ")
                            .doesNotContain("pcr 16 is " + ZERO)));
            assertThat(agent.svid()).isEmpty();
        }
    }

    @Test
    void missingQuotesDropTheNodesTrustLevelToZeroForPolicy() throws Exception {
        String agentId;
        try (TpmTools tpm = new TpmTools(node.tcti()); Agent agent = agent(new TpmAttestorClient(tpm))) {
            agent.start();
            agentId = agent.svid().orElseThrow().spiffeId().toString();
            // the entry pins the binary by digest, so the workload's own attestation does not cap the node's level 3
            admin("POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-a",
                     "selectors": [{"type": "unix", "value": "uid:1000"}, {"type": "unix", "value": "sha256:%s"}]}"""
                    .formatted(REPORTS, agentId, "5f".repeat(32)));
            exchange(REPORTS);
            assertThat(lastTrustLevel.get()).isEqualTo(3);
        }
        // the agent is gone: no quote comes; after twice the interval policy sees trust level 0
        Eventually.within(Duration.ofSeconds(10), () -> {
            exchange(REPORTS);
            assertThat(lastTrustLevel.get()).isZero();
        });
        assertThat(agentRecord(agentId).path("trust_level").asInt()).as("the attested level on record").isEqualTo(3);
    }

    @Test
    void ekCertificateFromAnUntrustedManufacturerIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(otherVendor.tcti())) {
            assertRefused(new TpmAttestorClient(tpm), "does not chain to a configured manufacturer ca");
        }
    }

    @Test
    void wrongActivationSecretIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti())) {
            TpmAttestorClient real = new TpmAttestorClient(tpm);
            assertRefused(new Tampering(real::evidence, challenge -> {
                TpmAnswer answer = TpmAnswer.parseFrom(real.respond(challenge));
                byte[] secret = answer.getActivatedSecret().toByteArray();
                secret[0] ^= 1;
                return answer.toBuilder().setActivatedSecret(ByteString.copyFrom(secret)).build().toByteArray();
            }), "credential activation failed", "not proven resident");
        }
    }

    @Test
    void akOfAnotherTpmCannotBeActivatedAndIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti()); TpmTools other = new TpmTools(sameVendor.tcti())) {
            TpmAttestorClient real = new TpmAttestorClient(tpm);
            byte[] foreignAk = other.createKeys().akPublic();
            assertRefused(new Tampering(() -> {
                try {
                    var evidence = dev.sigil.proto.agent.v1.TpmEvidence.parseFrom(real.evidence());
                    return evidence.toBuilder().setAkPublic(ByteString.copyFrom(foreignAk)).build().toByteArray();
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    throw new AssertionError(e);
                }
            }, challenge -> {
                // the node's tpm cannot activate a credential bound to another tpm's ak: it answers without the secret
                byte[] answer = real.respond(challenge);
                assertThat(TpmAnswer.parseFrom(answer).getActivatedSecret().isEmpty()).isTrue();
                return answer;
            }), "credential activation failed");
        }
    }

    @Test
    void quoteSignedByAnotherTpmsAkIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti()); TpmTools other = new TpmTools(sameVendor.tcti())) {
            TpmAttestorClient real = new TpmAttestorClient(tpm);
            other.createKeys();
            assertRefused(new Tampering(real::evidence, challenge -> {
                TpmAnswer answer = TpmAnswer.parseFrom(real.respond(challenge));
                var asked = TpmChallenge.parseFrom(challenge).getQuote();
                return answer.toBuilder().setQuote(quote(other.quote(asked.getNonce().toByteArray(), asked.getPcrsList())))
                        .build().toByteArray();
            }), "quote signature does not verify with attestation key", "not made by this node's tpm");
        }
    }

    @Test
    void replayedQuoteWithAnOldNonceIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti())) {
            TpmAttestorClient real = new TpmAttestorClient(tpm);
            byte[] evidence = real.evidence();
            TpmQuote[] recorded = new TpmQuote[1];
            try (Agent first = agent(new Tampering(() -> evidence, challenge -> {
                byte[] answer = real.respond(challenge);
                recorded[0] = TpmAnswer.parseFrom(answer).getQuote();
                return answer;
            }))) {
                first.start();
            }
            // same ek and ak, a correctly activated credential, but the quote of the earlier attempt
            assertRefused(new Tampering(() -> evidence, challenge -> TpmAnswer.parseFrom(real.respond(challenge)).toBuilder()
                    .setQuote(recorded[0]).build().toByteArray()), "quote nonce", "is not the nonce this server issued", "replayed");
        }
    }

    @Test
    void quoteOverANarrowerPcrSelectionIsRefused() throws Exception {
        try (TpmTools tpm = new TpmTools(node.tcti())) {
            TpmAttestorClient real = new TpmAttestorClient(tpm);
            assertRefused(new Tampering(real::evidence, challenge -> {
                TpmAnswer answer = TpmAnswer.parseFrom(real.respond(challenge));
                byte[] nonce = TpmChallenge.parseFrom(challenge).getQuote().getNonce().toByteArray();
                return answer.toBuilder().setQuote(quote(tpm.quote(nonce, List.of(0, 7)))).build().toByteArray();
            }), "quote covers sha256 pcrs [0, 7] but the server requires [0, 7, 16]; missing [16]");
        }
    }

    /** Attests through the real agent and Attest stream; expects PERMISSION_DENIED naming {@code reasons}, and no agent admitted. */
    private void assertRefused(NodeAttestorClient attestor, String... reasons) throws Exception {
        String agentsBefore = admin("GET", "/v1/agents", null).toString();
        try (Agent agent = agent(attestor)) {
            assertThatThrownBy(agent::start).isInstanceOf(AgentException.class)
                    .hasMessageContaining("permission_denied").hasMessageContainingAll(reasons);
            assertThat(agent.svid()).isEmpty();
        }
        assertThat(admin("GET", "/v1/agents", null).toString()).as("no agent admitted or re-attested").isEqualTo(agentsBefore);
        String denied = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=agent.attest").body();
        assertThat(denied).contains(reasons[0]);
    }

    private static TpmQuote quote(TpmTools.Quote quote) {
        TpmQuote.Builder built = TpmQuote.newBuilder().setAttest(ByteString.copyFrom(quote.attest()))
                .setSignature(ByteString.copyFrom(quote.signature()));
        quote.pcrValues().forEach(v -> built.addPcrValues(ByteString.copyFrom(v)));
        return built.build();
    }

    /** An attestor client whose evidence and answers a test rewrites, over a real TPM. */
    private record Tampering(java.util.function.Supplier<byte[]> evidenceSource, Answer answers) implements NodeAttestorClient {
        @Override
        public String type() {
            return "tpm";
        }

        @Override
        public byte[] evidence() {
            return evidenceSource.get();
        }

        @Override
        public byte[] respond(byte[] challenge) {
            try {
                return answers.answer(challenge);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @FunctionalInterface
    private interface Answer {
        byte[] answer(byte[] challenge) throws Exception;
    }

    private Agent agent(NodeAttestorClient attestor) throws Exception {
        Path data = Files.createDirectories(dir.resolve("agent-" + System.nanoTime()));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Path bundle = data.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        return new Agent(new AgentConfig(data, new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.TpmAttestorClientPlugin.choice(node.tcti()),
                data.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN), attestor, Clock.systemUTC());
    }

    /** An access token for {@code holder} from token exchange (its JWT-SVID minted by the server), as a workload would hold it. */
    private Credentials exchange(String holder) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String svid = server.authority().mintJwtSvid(SpiffeId.parse(holder), Audience.of(server.tokenAudience()), Duration.ofMinutes(5))
                .token();
        String form = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + svid + "&audience=" + enc("https://api.example.org");
        RawHttp.Reply exchanged = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", form.getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(exchanged.status()).as(exchanged.body()).isEqualTo(200);
        String accessToken = json.readTree(exchanged.body()).path("access_token").asText();
        JsonNode status = json.readTree(SignedJWT.parse(accessToken).getJWTClaimsSet().toString()).path("status").path("status_list");
        return new Credentials(accessToken, "", "", "", status.path("uri").asText(), status.path("idx").asLong());
    }

    private List<JsonNode> quotes(String agentId, String outcome) throws Exception {
        List<JsonNode> found = new java.util.ArrayList<>();
        for (JsonNode record : admin("GET", "/v1/audit?action=node.quote", null).path("results")) {
            if (record.path("subject").asText().equals(agentId) && record.path("outcome").asText().equals(outcome)) {
                found.add(record);
            }
        }
        return found;
    }

    private JsonNode agentRecord(String agentId) throws Exception {
        for (JsonNode agent : admin("GET", "/v1/agents", null).path("agents")) {
            if (agent.path("spiffe_id").asText().equals(agentId)) {
                return agent;
            }
        }
        throw new AssertionError("agent " + agentId + " is not registered: " + admin("GET", "/v1/agents", null));
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
