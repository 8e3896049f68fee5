package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.Bundle;
import dev.sigil.proto.agent.v1.SyncEntriesRequest;
import dev.sigil.proto.agent.v1.SyncEntriesResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.Eventually;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federated bundles reach agents through entry sync, least privilege: an agent receives the bundle of a
 * federated trust domain only while one of the entries it may serve federates with it, and is told when
 * that set changes (by digest), nothing otherwise.
 */
class FederatedBundleSyncTest {
    private final ObjectMapper json = new ObjectMapper();
    private final List<ManagedChannel> channels = new ArrayList<>();
    @TempDir
    Path dir;
    private SigilServer server;
    private X509Certificate root;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                key_manager:
                  type: memory
                jwt:
                  issuer: https://localhost
                bundle_endpoint:
                  enabled: false
                token_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()));
        root = server.authority().bundle().x509Authorities().get(0);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAgentGetsOnlyTheFederatedBundlesItsEntriesFederateWithAndHearsWhenTheyChange() throws Exception {
        federate("partner.test");
        federate("other.test");
        AgentGrpc.AgentBlockingStub node = attest();
        AgentGrpc.AgentBlockingStub stranger = attest();
        createEntry("spiffe://example.org/web", nodeId(node), "uid:1001", List.of("partner.test"));
        createEntry("spiffe://example.org/batch", nodeId(stranger), "uid:1002", List.of());

        AtomicReference<SyncEntriesResponse> first = new AtomicReference<>();
        Eventually.within(Duration.ofSeconds(10), () -> {
            first.set(node.syncEntries(SyncEntriesRequest.getDefaultInstance()));
            assertThat(first.get().hasFederatedBundles()).isTrue();
        });
        assertThat(first.get().getFederatedBundles().getBundlesList()).extracting(Bundle::getTrustDomain).containsExactly("partner.test");
        assertThat(first.get().getFederatedBundles().getDigest()).isNotEmpty();
        assertThat(stranger.syncEntries(SyncEntriesRequest.getDefaultInstance()).hasFederatedBundles())
                .as("an agent none of whose entries federates gets no foreign bundle").isFalse();

        SyncEntriesResponse unchanged = node.syncEntries(SyncEntriesRequest.newBuilder()
                .setSinceRevision(first.get().getThroughRevision())
                .setFederatedBundlesDigest(first.get().getFederatedBundles().getDigest()).build());
        assertThat(unchanged.hasFederatedBundles()).isFalse();

        admin("DELETE", "/v1/federation/partner.test", null);
        Eventually.within(Duration.ofSeconds(10), () -> {
            SyncEntriesResponse withdrawn = node.syncEntries(SyncEntriesRequest.newBuilder()
                    .setSinceRevision(first.get().getThroughRevision())
                    .setFederatedBundlesDigest(first.get().getFederatedBundles().getDigest()).build());
            assertThat(withdrawn.hasFederatedBundles()).isTrue();
            assertThat(withdrawn.getFederatedBundles().getBundlesList()).isEmpty();
            assertThat(withdrawn.getFederatedBundles().getDigest()).isEmpty();
        });
    }

    @Test
    void badRelationshipsAreRefusedWithMessagesNamingTheValue() throws Exception {
        assertThat(refused("{\"trust_domain\": \"example.org\", \"bundle_endpoint_url\": \"https://127.0.0.1:1/\", "
                + "\"bundle_endpoint_profile\": \"https_web\"}")).contains("this server's own");
        assertThat(refused("{\"trust_domain\": \"partner.test\", \"bundle_endpoint_url\": \"http://partner.test/\", "
                + "\"bundle_endpoint_profile\": \"https_web\"}")).contains("'http://partner.test/' must be an https url");
        assertThat(refused("{\"trust_domain\": \"partner.test\", \"bundle_endpoint_url\": \"https://partner.test/\", "
                + "\"bundle_endpoint_profile\": \"https_spiffe\", \"endpoint_spiffe_id\": \"spiffe://elsewhere.test/server\", "
                + "\"trust_domain_bundle\": {\"keys\": []}}"))
                .contains("'spiffe://elsewhere.test/server' is not in trust domain 'partner.test'");
        assertThat(refused("{\"trust_domain\": \"partner.test\", \"bundle_endpoint_url\": \"https://partner.test/\", "
                + "\"bundle_endpoint_profile\": \"https_spiffe\", \"endpoint_spiffe_id\": \"spiffe://partner.test/server\"}"))
                .contains("needs trust_domain_bundle");
        assertThat(refused("{\"trust_domain\": \"partner.test\", \"bundle_endpoint_url\": \"https://partner.test/\", "
                + "\"bundle_endpoint_profile\": \"https_spiffe\", \"endpoint_spiffe_id\": \"spiffe://partner.test/server\", "
                + "\"trust_domain_bundle\": {\"keys\": [{\"kty\": \"EC\"}]}}"))
                .contains("trust_domain_bundle is not a valid spiffe bundle");
        assertThat(refused("{\"trust_domain\": \"partner.test\", \"bundle_endpoint_url\": \"https://partner.test/\", "
                + "\"bundle_endpoint_profile\": \"mtls\"}")).contains("'mtls' is not known; valid: https_web or https_spiffe");
        assertThat(admin("GET", "/v1/federation", null).path("relationships")).isEmpty();
    }

    private String refused(String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/federation", "application/json",
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        return json.readTree(reply.body()).path("error").path("message").asText();
    }

    /** A relationship whose endpoint never answers: the bundle it was created with is the one in use. */
    private void federate(String trustDomain) throws Exception {
        TestPki pki = TestPki.create(trustDomain, Instant.now());
        String bundle = new SpiffeBundle(TrustDomain.parse(trustDomain), List.of(pki.caCertificate()), List.of(), 1, Optional.empty())
                .toJson();
        admin("POST", "/v1/federation", """
                {"trust_domain": "%s", "bundle_endpoint_url": "https://127.0.0.1:1/", "bundle_endpoint_profile": "https_spiffe",
                 "endpoint_spiffe_id": "spiffe://%s/sigil/server", "trust_domain_bundle": %s}""".formatted(trustDomain, trustDomain, bundle));
    }

    private AgentGrpc.AgentBlockingStub attest() throws Exception {
        KeyPair keys = AgentApiClient.keys();
        ManagedChannel anonymous = AgentApiClient.channel(server.agentApiAddress(), root, null);
        channels.add(anonymous);
        String token = admin("POST", "/v1/join-tokens", "{\"ttl\": 600}").path("token").asText();
        AgentSvid svid = AgentApiClient.attest(anonymous, new JoinTokenAttestorClient(token), AgentApiClient.csr(keys));
        ManagedChannel channel = AgentApiClient.channel(server.agentApiAddress(), root, AgentApiClient.identity(svid, keys));
        channels.add(channel);
        ids.put(channel, svid.getSpiffeId());
        return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private final Map<io.grpc.Channel, String> ids = new java.util.HashMap<>();

    private String nodeId(AgentGrpc.AgentBlockingStub stub) {
        return ids.get(stub.getChannel());
    }

    private void createEntry(String spiffeId, String parentId, String uid, List<String> federatesWith) throws Exception {
        admin("POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "selectors": [{"type": "unix", "value": "%s"}], "owner": "team-a",
                 "federates_with": %s}""".formatted(spiffeId, parentId, uid, json.writeValueAsString(federatesWith)));
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return reply.body().isEmpty() ? json.nullNode() : json.readTree(reply.body());
    }
}
