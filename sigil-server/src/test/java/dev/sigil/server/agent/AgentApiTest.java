package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.attestor.X509PopAttestorClient;
import dev.sigil.core.crypto.Pem;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.BatchSignX509Request;
import dev.sigil.proto.agent.v1.BatchSignX509Response;
import dev.sigil.proto.agent.v1.Entry;
import dev.sigil.proto.agent.v1.MintJwtSvidRequest;
import dev.sigil.proto.agent.v1.RenewAgentRequest;
import dev.sigil.proto.agent.v1.SignX509Request;
import dev.sigil.proto.agent.v1.SyncEntriesRequest;
import dev.sigil.proto.agent.v1.SyncEntriesResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The agent API of a full in-process server, over real mutual TLS. One server for the class; tests use distinct agents. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentApiTest {
    private final ObjectMapper json = new ObjectMapper();
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    private final TestPki nodeCa = TestPki.create("nodes.example", clock.instant());
    private final List<ManagedChannel> channels = new ArrayList<>();
    private SigilServer server;
    private X509Certificate root;

    @BeforeAll
    void startServer(@TempDir Path dir) throws Exception {
        Path caBundle = dir.resolve("node-ca.pem");
        Files.writeString(caBundle, Pem.encodeCertificates(List.of(nodeCa.caCertificate())));
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                key_manager:
                  type: memory
                jwt:
                  issuer: https://localhost
                bundle_endpoint:
                  enabled: false
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                  agent_svid_ttl: 30m
                  x509pop:
                    ca_bundle_file: %s
                """.formatted(dir.resolve("data"), caBundle));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock);
        root = server.authority().bundle().x509Authorities().get(0);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeChannels() throws InterruptedException {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        channels.clear();
    }

    /** An attested agent: its SVID, key and an authenticated channel. */
    record Node(AgentSvid svid, KeyPair keys, ManagedChannel channel) {
        String id() {
            return svid.getSpiffeId();
        }

        AgentGrpc.AgentBlockingStub stub() {
            return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        }
    }

    private ManagedChannel channel(TlsIdentity identity) {
        ManagedChannel channel = AgentApiClient.channel(server.agentApiAddress(), root, identity);
        channels.add(channel);
        return channel;
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return reply.body().isEmpty() ? json.nullNode() : json.readTree(reply.body());
    }

    private JsonNode joinToken() throws Exception {
        return admin("POST", "/v1/join-tokens", "{\"ttl\": 600}");
    }

    private Node attestWithJoinToken() throws Exception {
        KeyPair keys = AgentApiClient.keys();
        AgentSvid svid = AgentApiClient.attest(channel(null), new JoinTokenAttestorClient(joinToken().path("token").asText()),
                AgentApiClient.csr(keys));
        return new Node(svid, keys, channel(AgentApiClient.identity(svid, keys)));
    }

    private JsonNode createEntry(String spiffeId, String parentId, String selector) throws Exception {
        int colon = selector.indexOf(':');
        return admin("POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "selectors": [{"type": "%s", "value": "%s"}], "owner": "team-a",
                 "dns_names": ["svc.example.org"]}""".formatted(spiffeId, parentId, selector.substring(0, colon), selector.substring(colon + 1)));
    }

    private static SyncEntriesResponse sync(Node node, long since) {
        return node.stub().syncEntries(SyncEntriesRequest.newBuilder().setSinceRevision(since).build());
    }

    private static Set<String> ids(SyncEntriesResponse response) {
        return Set.copyOf(response.getChangedList().stream().map(Entry::getId).toList());
    }

    private static void assertStatus(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    private void validates(List<X509Certificate> chain) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        parameters.setDate(java.util.Date.from(clock.instant()));
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain.subList(0, 1)), parameters);
    }

    @Test
    void joinTokenAttestationGivesAnAgentSvidThatValidatesAgainstTheBundleAndTheTokenOnlyOnce() throws Exception {
        JsonNode token = joinToken();
        JoinTokenAttestorClient attestor = new JoinTokenAttestorClient(token.path("token").asText());
        AgentSvid svid = AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys()));

        assertThat(svid.getSpiffeId()).isEqualTo("spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText());
        assertThat(svid.getTrustLevel()).isEqualTo(1);
        assertThat(svid.getBundle().getSequence()).isEqualTo(server.authority().bundle().sequence());
        List<X509Certificate> chain = AgentApiClient.certificates(svid.getCertChainList());
        validates(chain);
        assertThat(ServerTls.spiffeIdOf(chain.get(0)).orElseThrow().toString()).isEqualTo(svid.getSpiffeId());
        assertThat(chain.get(0).getNotAfter().toInstant()).isEqualTo(clock.instant().plus(Duration.ofMinutes(30)));

        assertStatus(() -> AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys())),
                Status.Code.PERMISSION_DENIED, "join token is unknown, already used or pruned");
        JsonNode listed = admin("GET", "/v1/agents/show?spiffe_id=" + svid.getSpiffeId(), null);
        assertThat(listed.path("attestor_type").asText()).isEqualTo("join_token");
    }

    @Test
    void malformedCsrOrUnknownAttestorIsInvalidArgumentAndKeepsTheToken() throws Exception {
        String token = joinToken().path("token").asText();
        JoinTokenAttestorClient attestor = new JoinTokenAttestorClient(token);
        assertThatThrownBy(() -> AgentApiClient.attest(channel(null), attestor, new byte[] {1, 2, 3}))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        NodeAttestorClient unknown = new NodeAttestorClient() {
            @Override
            public String type() {
                return "tpm_devid";
            }

            @Override
            public byte[] evidence() {
                return attestor.evidence();
            }

            @Override
            public byte[] respond(byte[] challenge) {
                throw new IllegalStateException("no challenge expected");
            }
        };
        assertThatThrownBy(() -> AgentApiClient.attest(channel(null), unknown, AgentApiClient.csr(AgentApiClient.keys())))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("'tpm_devid' is not enabled").contains("join_token, x509pop");
        });

        assertThat(AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys())).getSpiffeId())
                .startsWith("spiffe://example.org/sigil/agent/join_token/");
    }

    @Test
    void x509popAttestsANodeOfTheConfiguredCaAndRefusesAWrongKey() throws Exception {
        TlsIdentity node = nodeCa.issue("CN=node-7,O=Sigil Test", "spiffe://nodes.example/node-7", Duration.ofHours(2));
        AgentSvid svid = AgentApiClient.attest(channel(null), new X509PopAttestorClient(node.chain(), node.privateKey()),
                AgentApiClient.csr(AgentApiClient.keys()));

        assertThat(svid.getSpiffeId()).startsWith("spiffe://example.org/sigil/agent/x509pop/");
        assertThat(svid.getTrustLevel()).isEqualTo(2);
        assertThat(svid.getSelectorsList()).anySatisfy(s -> assertThat(s.getValue()).isEqualTo("subject:cn:node-7"));
        validates(AgentApiClient.certificates(svid.getCertChainList()));

        TlsIdentity other = nodeCa.issue("spiffe://nodes.example/node-8");
        assertStatus(() -> AgentApiClient.attest(channel(null), new X509PopAttestorClient(node.chain(), other.privateKey()),
                        AgentApiClient.csr(AgentApiClient.keys())), Status.Code.PERMISSION_DENIED, "signature does not verify");
    }

    @Test
    void bannedX509popNodeCannotReattestUntilEvicted() throws Exception {
        TlsIdentity node = nodeCa.issue("CN=node-9,O=Sigil Test", "spiffe://nodes.example/node-9", Duration.ofHours(2));
        X509PopAttestorClient attestor = new X509PopAttestorClient(node.chain(), node.privateKey());
        AgentSvid svid = AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys()));
        admin("POST", "/v1/agents/ban", "{\"spiffe_id\": \"" + svid.getSpiffeId() + "\"}");

        assertThatThrownBy(() -> AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys())))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("is banned");
                });

        admin("POST", "/v1/agents/evict", "{\"spiffe_id\": \"" + svid.getSpiffeId() + "\"}");
        assertThat(AgentApiClient.attest(channel(null), attestor, AgentApiClient.csr(AgentApiClient.keys())).getSpiffeId())
                .isEqualTo(svid.getSpiffeId());
    }

    @Test
    void renewalIssuesANewSvidAndRetiresTheOldOne() throws Exception {
        Node node = attestWithJoinToken();
        KeyPair fresh = AgentApiClient.keys();

        AgentSvid renewed = node.stub().renewAgent(RenewAgentRequest.newBuilder()
                .setCsr(ByteString.copyFrom(AgentApiClient.csr(fresh))).build()).getSvid();

        X509Certificate oldLeaf = AgentApiClient.certificates(node.svid().getCertChainList()).get(0);
        X509Certificate newLeaf = AgentApiClient.certificates(renewed.getCertChainList()).get(0);
        assertThat(renewed.getSpiffeId()).isEqualTo(node.id());
        assertThat(newLeaf.getSerialNumber()).isNotEqualTo(oldLeaf.getSerialNumber());
        assertThat(newLeaf.getPublicKey()).isEqualTo(fresh.getPublic());
        assertStatus(() -> sync(node, 0), Status.Code.PERMISSION_DENIED, "superseded");
        Node next = new Node(renewed, fresh, channel(AgentApiClient.identity(renewed, fresh)));
        assertThat(sync(next, 0).getFullState()).isTrue();
    }

    @Test
    void syncEntriesSendsChangesByRevisionAndNodeAliasEntries() throws Exception {
        Node node = attestWithJoinToken();
        Node stranger = attestWithJoinToken();
        String a = createEntry("spiffe://example.org/app/a", node.id(), "unix:uid:1001").path("id").asText();
        String foreign = createEntry("spiffe://example.org/app/foreign", stranger.id(), "unix:uid:1002").path("id").asText();

        SyncEntriesResponse first = sync(node, 0);
        assertThat(first.getFullState()).isTrue();
        assertThat(ids(first)).containsExactly(a);
        assertThat(first.hasBundle()).isTrue();

        String b = createEntry("spiffe://example.org/app/b", node.id(), "unix:uid:1003").path("id").asText();
        JsonNode current = admin("GET", "/v1/entries/" + a, null);
        admin("PUT", "/v1/entries/" + a, """
                {"revision": %d, "spiffe_id": "spiffe://example.org/app/a", "parent_id": "%s",
                 "selectors": [{"type": "unix", "value": "uid:2001"}], "owner": "team-a"}"""
                .formatted(current.path("revision").asLong(), node.id()));
        admin("PUT", "/v1/entries/" + foreign, """
                {"revision": %d, "spiffe_id": "spiffe://example.org/app/foreign", "parent_id": "%s",
                 "selectors": [{"type": "unix", "value": "uid:2002"}], "owner": "team-a"}"""
                .formatted(admin("GET", "/v1/entries/" + foreign, null).path("revision").asLong(), stranger.id()));

        SyncEntriesResponse second = node.stub().syncEntries(SyncEntriesRequest.newBuilder()
                .setSinceRevision(first.getThroughRevision()).setBundleSequence(first.getBundle().getSequence()).build());
        assertThat(second.getFullState()).isFalse();
        assertThat(ids(second)).containsExactlyInAnyOrder(a, b);
        assertThat(second.getChangedList()).filteredOn(e -> e.getId().equals(a))
                .singleElement().satisfies(e -> assertThat(e.getSelectors(0).getValue()).isEqualTo("uid:2001"));
        assertThat(second.getRemovedIdsList()).containsExactly(foreign);
        assertThat(second.hasBundle()).isFalse();

        String tokenId = node.id().substring(node.id().lastIndexOf('/') + 1);
        createEntry("spiffe://example.org/group/blue", "spiffe://example.org/sigil/server", "join_token:id:" + tokenId);
        String aliased = createEntry("spiffe://example.org/app/aliased", "spiffe://example.org/group/blue", "unix:uid:1004")
                .path("id").asText();
        SyncEntriesResponse third = sync(node, second.getThroughRevision());
        assertThat(third.getFullState()).isTrue();
        assertThat(ids(third)).containsExactlyInAnyOrder(a, b, aliased);
        assertThat(ids(sync(stranger, 0))).containsExactly(foreign);

        admin("DELETE", "/v1/entries/" + b, null);
        SyncEntriesResponse fourth = sync(node, third.getThroughRevision());
        assertThat(ids(fourth)).containsExactlyInAnyOrder(a, aliased);
        assertThat(fourth.getFullState()).isTrue();
        assertThat(sync(node, fourth.getThroughRevision()).getChangedList()).isEmpty();
    }

    @Test
    void batchSignSignsOwnEntriesAndRefusesOthersItemByItem() throws Exception {
        Node node = attestWithJoinToken();
        Node stranger = attestWithJoinToken();
        String own = createEntry("spiffe://example.org/app/own", node.id(), "unix:uid:3001").path("id").asText();
        String foreign = createEntry("spiffe://example.org/app/theirs", stranger.id(), "unix:uid:3002").path("id").asText();
        ByteString csr = ByteString.copyFrom(AgentApiClient.csr(AgentApiClient.keys()));

        BatchSignX509Response response = node.stub().batchSignX509(BatchSignX509Request.newBuilder()
                .addRequests(SignX509Request.newBuilder().setEntryId(own).setCsr(csr))
                .addRequests(SignX509Request.newBuilder().setEntryId(foreign).setCsr(csr))
                .addRequests(SignX509Request.newBuilder().setEntryId(own).setCsr(ByteString.copyFromUtf8("not a csr")))
                .build());

        assertThat(response.getResultsList()).hasSize(3);
        X509Certificate signed = AgentApiClient.certificates(response.getResults(0).getCertChainList()).get(0);
        assertThat(response.getResults(0).getError()).isEmpty();
        assertThat(ServerTls.spiffeIdOf(signed).orElseThrow().toString()).isEqualTo("spiffe://example.org/app/own");
        assertThat(signed.getSubjectAlternativeNames()).anySatisfy(name -> assertThat(name.get(1)).isEqualTo("svc.example.org"));
        assertThat(response.getResults(1).getCertChainCount()).isZero();
        assertThat(response.getResults(1).getError()).contains("not authorized for agent " + node.id());
        assertThat(response.getResults(2).getError()).contains("csr");

        String token = node.stub().mintJwtSvid(MintJwtSvidRequest.newBuilder().setEntryId(own).addAudience("db").build()).getToken();
        assertThat(token.split("\\.")).hasSize(3);
        assertStatus(() -> node.stub().mintJwtSvid(MintJwtSvidRequest.newBuilder().setEntryId(foreign).addAudience("db").build()),
                Status.Code.PERMISSION_DENIED, "not authorized");
        // the status of the minted jwt-svid, as ValidateJWTSVID asks it
        java.util.Map<?, ?> list = (java.util.Map<?, ?>) ((java.util.Map<?, ?>) com.nimbusds.jwt.SignedJWT.parse(token).getJWTClaimsSet()
                .getClaim("status")).get("status_list");
        var status = node.stub().tokenStatus(dev.sigil.proto.agent.v1.TokenStatusRequest.newBuilder()
                .setUri((String) list.get("uri")).setIdx(((Number) list.get("idx")).longValue()).build());
        assertThat(status.getKnown()).isTrue();
        assertThat(status.getRevoked()).isFalse();
        var unknown = node.stub().tokenStatus(dev.sigil.proto.agent.v1.TokenStatusRequest.newBuilder()
                .setUri((String) list.get("uri")).setIdx(999_999).build());
        assertThat(unknown.getKnown()).isFalse();
        // a 2,048-character audience was once an UNAVAILABLE "cannot reach its datastore" and a stack trace
        assertStatus(() -> node.stub().mintJwtSvid(MintJwtSvidRequest.newBuilder().setEntryId(own).addAudience("a".repeat(2048)).build()),
                Status.Code.INVALID_ARGUMENT, "at most 512");
        assertStatus(() -> node.stub().mintJwtSvid(MintJwtSvidRequest.newBuilder().setEntryId(own).addAudience("db\nforged").build()),
                Status.Code.INVALID_ARGUMENT, "control character");
    }

    @Test
    void mintWitSvidBindsTheAgentsPublicKeyForItsOwnEntriesOnly() throws Exception {
        Node node = attestWithJoinToken();
        Node stranger = attestWithJoinToken();
        String own = createEntry("spiffe://example.org/app/wit-own", node.id(), "unix:uid:3011").path("id").asText();
        String foreign = createEntry("spiffe://example.org/app/wit-theirs", stranger.id(), "unix:uid:3012").path("id").asText();
        com.nimbusds.jose.jwk.ECKey key = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256)
                .algorithm(com.nimbusds.jose.JWSAlgorithm.ES256).generate();

        var minted = node.stub().mintWitSvid(dev.sigil.proto.agent.v1.MintWitSvidRequest.newBuilder().setEntryId(own)
                .setPublicKeyJwk(key.toPublicJWK().toJSONString()).build());

        com.nimbusds.jwt.SignedJWT wit = com.nimbusds.jwt.SignedJWT.parse(minted.getToken());
        assertThat(wit.getHeader().getType().getType()).isEqualTo("wit+jwt");
        assertThat(wit.getJWTClaimsSet().getSubject()).isEqualTo("spiffe://example.org/app/wit-own");
        assertThat(wit.getJWTClaimsSet().getAudience()).isEmpty();
        java.util.Map<?, ?> cnf = (java.util.Map<?, ?>) wit.getJWTClaimsSet().getClaim("cnf");
        assertThat(com.nimbusds.jose.jwk.JWK.parse((java.util.Map<String, Object>) cnf.get("jwk")).computeThumbprint())
                .isEqualTo(key.computeThumbprint());
        assertThat(wit.verify(new com.nimbusds.jose.crypto.ECDSAVerifier((java.security.interfaces.ECPublicKey)
                server.authority().bundle().witAuthority(wit.getHeader().getKeyID()).orElseThrow().publicKey()))).isTrue();
        assertThat(server.authority().bundle().jwtAuthority(wit.getHeader().getKeyID())).as("signed by a wit-svid key only").isEmpty();
        JsonNode issued = admin("GET", "/v1/audit?action=svid.wit.issue", null).path("results");
        assertThat(issued).anySatisfy(record -> {
            assertThat(record.path("subject").asText()).isEqualTo("spiffe://example.org/app/wit-own");
            assertThat(record.path("actor").asText()).isEqualTo(node.id().toString());
            assertThat(record.path("details").asText()).contains("cnf_jkt").contains(key.computeThumbprint().toString());
            assertThat(record.toString()).doesNotContain(minted.getToken());
        });

        assertStatus(() -> node.stub().mintWitSvid(dev.sigil.proto.agent.v1.MintWitSvidRequest.newBuilder().setEntryId(foreign)
                .setPublicKeyJwk(key.toPublicJWK().toJSONString()).build()), Status.Code.PERMISSION_DENIED, "not authorized");
        assertStatus(() -> node.stub().mintWitSvid(dev.sigil.proto.agent.v1.MintWitSvidRequest.newBuilder().setEntryId(own)
                .setPublicKeyJwk(key.toJSONString()).build()), Status.Code.INVALID_ARGUMENT, "private key material");
        assertStatus(() -> node.stub().mintWitSvid(dev.sigil.proto.agent.v1.MintWitSvidRequest.newBuilder().setEntryId(own)
                .setPublicKeyJwk("{not json").build()), Status.Code.INVALID_ARGUMENT, "not a jwk");
    }

    @Test
    void bannedOrEvictedAgentIsRefusedAtItsNextCall() throws Exception {
        Node banned = attestWithJoinToken();
        Node evicted = attestWithJoinToken();
        assertThat(sync(banned, 0).getFullState()).isTrue();
        assertThat(sync(evicted, 0).getFullState()).isTrue();

        admin("POST", "/v1/agents/ban", "{\"spiffe_id\": \"" + banned.id() + "\"}");
        admin("POST", "/v1/agents/evict", "{\"spiffe_id\": \"" + evicted.id() + "\"}");

        assertStatus(() -> sync(banned, 0), Status.Code.PERMISSION_DENIED, "is banned");
        assertStatus(() -> sync(evicted, 0), Status.Code.PERMISSION_DENIED, "is not registered");
        JsonNode agents = admin("GET", "/v1/agents", null).path("agents");
        assertThat(agents.findValuesAsText("spiffe_id")).contains(banned.id()).doesNotContain(evicted.id());
    }

    @Test
    void callsWithoutAValidAgentSvidAreUnauthenticated() throws Exception {
        ManagedChannel anonymous = channel(null);
        assertStatus(() -> AgentGrpc.newBlockingStub(anonymous).syncEntries(SyncEntriesRequest.getDefaultInstance()),
                Status.Code.UNAUTHENTICATED, "no client certificate");

        TlsIdentity foreign = TestPki.create("example.org", clock.instant()).issue("spiffe://example.org/sigil/agent/x/forged");
        ManagedChannel forged = channel(foreign);
        assertStatus(() -> AgentGrpc.newBlockingStub(forged).syncEntries(SyncEntriesRequest.getDefaultInstance()),
                Status.Code.UNAUTHENTICATED, "does not chain to the trust bundle");

        Node node = attestWithJoinToken();
        Instant now = clock.instant();
        clock.advance(Duration.ofMinutes(31));
        try {
            assertStatus(() -> sync(node, 0), Status.Code.UNAUTHENTICATED, "not a valid agent svid");
        } finally {
            clock.set(now);
        }
    }
}
