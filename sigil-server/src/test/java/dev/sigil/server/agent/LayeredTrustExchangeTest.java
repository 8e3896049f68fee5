package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.attestor.X509PopAttestorClient;
import dev.sigil.core.crypto.Pem;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.Exchanges;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.MutableClock;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layered trust through the real token endpoint: a node attested by x509pop (level 2) serves two
 * workloads, one registered by {@code k8s} selectors (workload level 2), one by {@code cgroup} selectors
 * (level 1). A workload's level is the lower of the two, so a rule asking {@code min_trust_level: 2}
 * lets the first exchange and refuses the second, naming the levels; a rule asking 3 refuses both.
 */
class LayeredTrustExchangeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String K8S_WORKLOAD = "spiffe://example.org/k8s/billing";
    private static final String CGROUP_WORKLOAD = "spiffe://example.org/cgroup/billing";

    @TempDir
    Path dir;
    private SigilServer server;
    private ManagedChannel channel;
    private String nodeId;

    @BeforeEach
    void start() throws Exception {
        MutableClock clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        TestPki nodeCa = TestPki.create("nodes.example", clock.instant());
        Path caBundle = Files.writeString(dir.resolve("node-ca.pem"), Pem.encodeCertificates(List.of(nodeCa.caCertificate())));
        Path file = Files.writeString(dir.resolve("sigil.yaml"), """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                key_manager:
                  type: memory
                bundle_endpoint:
                  enabled: false
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                  x509pop:
                    ca_bundle_file: %s
                """.formatted(dir.resolve("data"), caBundle));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock);
        channel = AgentApiClient.channel(server.agentApiAddress(), server.authority().bundle().x509Authorities().get(0), null);
        var node = nodeCa.issue("CN=node-1,O=Sigil Test", "spiffe://nodes.example/node-1", Duration.ofHours(2));
        AgentSvid svid = AgentApiClient.attest(channel, new X509PopAttestorClient(node.chain(), node.privateKey()),
                AgentApiClient.csr(AgentApiClient.keys()));
        assertThat(svid.getTrustLevel()).isEqualTo(2);
        nodeId = svid.getSpiffeId();
        entry(K8S_WORKLOAD, "k8s", "ns:payments");
        entry(CGROUP_WORKLOAD, "cgroup", "container_id:" + "c".repeat(64));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    private void entry(String spiffeId, String type, String value) throws Exception {
        admin("POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "selectors": [{"type": "%s", "value": "%s"}], "owner": "payments"}"""
                .formatted(spiffeId, nodeId, type, value));
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return JSON.readTree(reply.body());
    }

    private void policy(int minTrustLevel) throws Exception {
        admin("PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", """
                rules:
                  - name: payments-api
                    effect: allow
                    subject: {spiffe_id: "spiffe://example.org/*", min_trust_level: %d}
                    actions: [token:exchange]
                    resources: ["https://api.example.org"]
                """.formatted(minTrustLevel))));
    }

    private RawHttp.Reply exchange(String spiffeId) throws Exception {
        return Exchanges.exchange(server, Exchanges.anonymous(server), Exchanges.subjectToken(server, spiffeId), "https://api.example.org");
    }

    @Test
    void aWorkloadRatesAtTheLowerOfItsNodeAndItsWorkloadAttestation() throws Exception {
        policy(2);

        RawHttp.Reply k8s = exchange(K8S_WORKLOAD);
        assertThat(k8s.status()).as(k8s.body()).isEqualTo(200);
        assertThat(JSON.readTree(k8s.body()).path("access_token").asText()).isNotEmpty();

        RawHttp.Reply cgroup = exchange(CGROUP_WORKLOAD);
        assertThat(cgroup.status()).as(cgroup.body()).isBetween(400, 403);
        assertThat(JSON.readTree(cgroup.body()).path("access_token").isMissingNode()).isTrue();
        String audit = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=token.exchange").body();
        assertThat(audit).contains("asks min_trust_level 2").contains("has trust level 1")
                .contains("node " + nodeId + " (x509pop) level 2, workload (cgroup selectors) level 1");
    }

    @Test
    void inventoryAndPostureShowTheEffectiveLevel() throws Exception {
        policy(2);

        JsonNode inventory = JSON.readTree(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/inventory").body());
        assertThat(inventory.path("identities")).anySatisfy(identity -> {
            assertThat(identity.path("spiffe_id").asText()).isEqualTo(CGROUP_WORKLOAD);
            assertThat(identity.path("trust_level").asInt()).isEqualTo(1);
        }).anySatisfy(identity -> {
            assertThat(identity.path("spiffe_id").asText()).isEqualTo(K8S_WORKLOAD);
            assertThat(identity.path("trust_level").asInt()).isEqualTo(2);
        });
        String posture = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/posture").body();
        assertThat(posture).contains("nhi4.trust_below_policy")
                .contains("asks trust level 2 of " + CGROUP_WORKLOAD + ", but its workload attestation (cgroup selectors) is at 1")
                .doesNotContain("of " + K8S_WORKLOAD + ", but");
    }

    @Test
    void aRuleAskingMoreThanTheNodeGivesRefusesEvenAStrongWorkloadNamingBothLevels() throws Exception {
        policy(3);

        RawHttp.Reply k8s = exchange(K8S_WORKLOAD);

        assertThat(k8s.status()).as(k8s.body()).isBetween(400, 403);
        String audit = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=token.exchange").body();
        assertThat(audit).contains("asks min_trust_level 3").contains("has trust level 2")
                .contains("node " + nodeId + " (x509pop) level 2, workload (k8s selectors) level 2");
    }
}
