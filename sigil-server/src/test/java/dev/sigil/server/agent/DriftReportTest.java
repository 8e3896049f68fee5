package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.DriftReason;
import dev.sigil.proto.agent.v1.DriftReport;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** ReportDrift on a full in-process server over mutual TLS: validation, audit records, the drift listener, the audit kind. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DriftReportTest {
    private final ObjectMapper json = new ObjectMapper();
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    private final List<DriftEvent> delivered = new CopyOnWriteArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private SigilServer server;
    private X509Certificate root;

    @BeforeAll
    void startServer(@TempDir Path dir) throws Exception {
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
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock, SigilServer.Options.defaults().withDriftListener(delivered::add));
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

    @Test
    void changedSelectorsAreAuditedPerIdentityAndHandedToTheListener() throws Exception {
        Node node = attest();
        createEntry("spiffe://example.org/drift/billing", node.id(), "unix:uid:5001");
        createEntry("spiffe://example.org/drift/reports", node.id(), "unix:uid:5001");

        String driftId = node.stub().reportDrift(report(DriftReason.DRIFT_REASON_SELECTORS_CHANGED,
                "spiffe://example.org/drift/billing", "spiffe://example.org/drift/reports")).getDriftId();

        assertThat(driftId).startsWith("drift-");
        DriftEvent event = delivered.stream().filter(e -> e.driftId().equals(driftId)).findFirst().orElseThrow();
        assertThat(event.agentId().toString()).isEqualTo(node.id());
        assertThat(event.reason()).isEqualTo(DriftEvent.Reason.SELECTORS_CHANGED);
        assertThat(event.spiffeIds()).extracting(SpiffeId::toString)
                .containsExactlyInAnyOrder("spiffe://example.org/drift/billing", "spiffe://example.org/drift/reports");
        assertThat(event.selectorsAfter()).containsExactly(Selector.parse("unix:uid:5001"));

        List<JsonNode> records = driftRecords(driftId);
        assertThat(records).hasSize(2);
        assertThat(records).extracting(r -> r.path("subject").asText())
                .containsExactlyInAnyOrder("spiffe://example.org/drift/billing", "spiffe://example.org/drift/reports");
        JsonNode details = json.readTree(records.get(0).path("details").asText());
        assertThat(records.get(0).path("action").asText()).isEqualTo("workload.drift");
        assertThat(records.get(0).path("actor").asText()).isEqualTo(node.id());
        assertThat(records.get(0).path("outcome").asText()).isEqualTo("success");
        assertThat(details.path("reason").asText()).isEqualTo("selectors_changed");
        assertThat(details.path("benign").asText()).isEqualTo("false");
        assertThat(details.path("selectors_removed").asText()).isEqualTo("unix:path:/opt/app,unix:sha256:" + "ab".repeat(32));
        assertThat(details.path("selectors_added").asText()).isEmpty();
        assertThat(details.path("pid").asText()).isEqualTo("4242");
    }

    @Test
    void exitIsAuditedAsBenign() throws Exception {
        Node node = attest();
        createEntry("spiffe://example.org/drift/exit", node.id(), "unix:uid:5002");
        // the identity holds a live credential (a JWT-SVID with a status entry): its exits are recorded
        admin("POST", "/v1/svids/jwt", """
                {"spiffe_id": "spiffe://example.org/drift/exit", "audience": ["https://api.example"]}""");

        String driftId = node.stub().reportDrift(report(DriftReason.DRIFT_REASON_EXITED, "spiffe://example.org/drift/exit").toBuilder()
                .clearSelectorsAfter().build()).getDriftId();

        JsonNode details = json.readTree(driftRecords(driftId).get(0).path("details").asText());
        assertThat(details.path("reason").asText()).isEqualTo("exited");
        assertThat(details.path("benign").asText()).isEqualTo("true");
    }

    @Test
    void anExitOfAnIdentityHoldingNoLiveCredentialIsAcknowledgedButNotRecorded() throws Exception {
        Node node = attest();
        createEntry("spiffe://example.org/drift/cli-run", node.id(), "unix:uid:5003");
        int deliveredBefore = delivered.size();

        String driftId = node.stub().reportDrift(report(DriftReason.DRIFT_REASON_EXITED, "spiffe://example.org/drift/cli-run").toBuilder()
                .clearSelectorsAfter().build()).getDriftId();

        assertThat(driftId).startsWith("drift-");
        assertThat(driftRecords(driftId)).isEmpty();
        assertThat(delivered).hasSize(deliveredBefore);
    }

    @Test
    void retriedReportGetsTheSameDriftIdAndIsDeliveredOnce() throws Exception {
        Node node = attest();
        createEntry("spiffe://example.org/drift/retry", node.id(), "unix:uid:5003");
        DriftReport report = report(DriftReason.DRIFT_REASON_SELECTORS_CHANGED, "spiffe://example.org/drift/retry");

        String first = node.stub().reportDrift(report).getDriftId();
        String second = node.stub().reportDrift(report).getDriftId();

        assertThat(second).isEqualTo(first);
        assertThat(delivered.stream().filter(e -> e.driftId().equals(first))).hasSize(1);
        assertThat(driftRecords(first)).hasSize(1);
    }

    @Test
    void reportNamingAnIdentityTheAgentMayNotServeIsRefusedAndAuditedAsDenied() throws Exception {
        Node node = attest();
        Node stranger = attest();
        createEntry("spiffe://example.org/drift/theirs", stranger.id(), "unix:uid:5004");
        int before = delivered.size();

        assertThatThrownBy(() -> node.stub().reportDrift(report(DriftReason.DRIFT_REASON_SELECTORS_CHANGED,
                "spiffe://example.org/drift/theirs")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("not authorized");
                });

        assertThat(delivered).hasSize(before);
        JsonNode results = admin("GET", "/v1/audit?kind=drift&workload=spiffe://example.org/drift/theirs&limit=10000").path("results");
        assertThat(results).anySatisfy(r -> {
            assertThat(r.path("outcome").asText()).isEqualTo("denied");
            assertThat(r.path("actor").asText()).isEqualTo(node.id());
        });
    }

    @Test
    void reportMixingOwnAndForeignIdentitiesRecordsOnlyTheOwnOnes() throws Exception {
        Node node = attest();
        Node stranger = attest();
        createEntry("spiffe://example.org/drift/mine", node.id(), "unix:uid:5006");
        createEntry("spiffe://example.org/drift/not-mine", stranger.id(), "unix:uid:5006");

        String driftId = node.stub().reportDrift(report(DriftReason.DRIFT_REASON_SELECTORS_CHANGED,
                "spiffe://example.org/drift/mine", "spiffe://example.org/drift/not-mine")).getDriftId();

        DriftEvent event = delivered.stream().filter(e -> e.driftId().equals(driftId)).findFirst().orElseThrow();
        assertThat(event.spiffeIds()).extracting(SpiffeId::toString).containsExactly("spiffe://example.org/drift/mine");
        assertThat(driftRecords(driftId)).extracting(r -> r.path("subject").asText()).containsExactly("spiffe://example.org/drift/mine");
        assertThat(admin("GET", "/v1/audit?kind=drift&workload=spiffe://example.org/drift/not-mine").path("results"))
                .singleElement().satisfies(r -> assertThat(r.path("outcome").asText()).isEqualTo("denied"));
    }

    @Test
    void malformedReportsAreInvalidArguments() throws Exception {
        Node node = attest();
        createEntry("spiffe://example.org/drift/bad", node.id(), "unix:uid:5005");
        DriftReport good = report(DriftReason.DRIFT_REASON_SELECTORS_CHANGED, "spiffe://example.org/drift/bad");

        for (DriftReport bad : List.of(good.toBuilder().setReportId("").build(),
                good.toBuilder().setReason(DriftReason.DRIFT_REASON_UNSPECIFIED).build(),
                good.toBuilder().setPid(0).build(),
                good.toBuilder().clearSpiffeIdsBefore().build(),
                good.toBuilder().clearSpiffeIdsBefore().addSpiffeIdsBefore("not-an-id").build(),
                good.toBuilder().setReason(DriftReason.DRIFT_REASON_EXITED).build())) {
            assertThatThrownBy(() -> node.stub().reportDrift(bad)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }

    @Test
    void auditQueryRefusesKindTogetherWithAction() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?kind=drift&action=entry.");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?kind=Not+Valid").status()).isEqualTo(400);
    }

    record Node(AgentSvid svid, ManagedChannel channel) {
        String id() {
            return svid.getSpiffeId();
        }

        AgentGrpc.AgentBlockingStub stub() {
            return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        }
    }

    private Node attest() throws Exception {
        KeyPair keys = AgentApiClient.keys();
        String token = admin("POST", "/v1/join-tokens", "{\"ttl\": 600}").path("token").asText();
        AgentSvid svid = AgentApiClient.attest(channel(null), new JoinTokenAttestorClient(token), AgentApiClient.csr(keys));
        return new Node(svid, channel(AgentApiClient.identity(svid, keys)));
    }

    private ManagedChannel channel(dev.sigil.server.tls.TlsIdentity identity) {
        ManagedChannel channel = AgentApiClient.channel(server.agentApiAddress(), root, identity);
        channels.add(channel);
        return channel;
    }

    private static DriftReport report(DriftReason reason, String... ids) {
        return DriftReport.newBuilder()
                .setReportId(UUID.randomUUID().toString())
                .setPid(4242)
                .setProcessStartTime(123456)
                .addAllSpiffeIdsBefore(List.of(ids))
                .addSelectorsBefore(selector("unix", "uid:5001"))
                .addSelectorsBefore(selector("unix", "path:/opt/app"))
                .addSelectorsBefore(selector("unix", "sha256:" + "ab".repeat(32)))
                .addSelectorsAfter(selector("unix", "uid:5001"))
                .setReason(reason)
                .setObservedAtUnixMillis(System.currentTimeMillis())
                .build();
    }

    private static dev.sigil.proto.agent.v1.Selector selector(String type, String value) {
        return dev.sigil.proto.agent.v1.Selector.newBuilder().setType(type).setValue(value).build();
    }

    private List<JsonNode> driftRecords(String driftId) throws Exception {
        List<JsonNode> records = new ArrayList<>();
        for (JsonNode record : admin("GET", "/v1/audit?kind=drift&limit=10000", null).path("results")) {
            assertThat(record.path("action").asText()).startsWith("workload.drift");
            if (json.readTree(record.path("details").asText()).path("drift_id").asText().equals(driftId)) {
                records.add(record);
            }
        }
        return records;
    }

    private void createEntry(String spiffeId, String parentId, String selector) throws Exception {
        int colon = selector.indexOf(':');
        admin("POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "selectors": [{"type": "%s", "value": "%s"}], "owner": "team-a"}"""
                .formatted(spiffeId, parentId, selector.substring(0, colon), selector.substring(colon + 1)));
    }

    private JsonNode admin(String method, String path) throws Exception {
        return admin(method, path, null);
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return reply.body().isEmpty() ? json.nullNode() : json.readTree(reply.body());
    }
}
