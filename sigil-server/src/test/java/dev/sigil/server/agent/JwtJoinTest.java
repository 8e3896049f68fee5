package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.Agent;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.attestor.JwtAttestorClient;
import dev.sigil.agent.attestor.JwtAttestorClientPlugin;
import dev.sigil.agent.attestor.NodeAttestorClients;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentPlugins;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestOidcIssuer;
import dev.sigil.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * OIDC-federated node join ({@code jwt} node attestor) through the real path: OIDC issuers served by the
 * test over HTTPS on 127.0.0.1 (discovery and JWKS), a full in-process server whose agent API listener
 * verifies their tokens, and a real agent reading its token from a file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JwtJoinTest {
    private static final String K8S_AUDIENCE = "sigil-server";
    private static final String GITHUB_AUDIENCE = "https://github.com/octo-org";
    private final ObjectMapper json = new ObjectMapper();
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();
    private Path dir;
    private TestOidcIssuer issuers;
    private String k8s;
    private String github;
    private String rotating;
    private String down;
    private SigilServer server;
    private X509Certificate root;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        issuers = TestOidcIssuer.start(dir);
        k8s = issuers.add("k8s");
        github = issuers.add("github");
        rotating = issuers.add("rotating");
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        down = "https://127.0.0.1:" + closed + "/down";
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
                node_attestors:
                  join_token:
                  jwt:
                    issuers:
                      - issuer: %s
                        audience: %s
                        preset: k8s_psat
                        cluster: prod-eu
                        ca_bundle_file: %s
                      - issuer: %s
                        name: github
                        audience: %s
                        preset: github_actions
                        ca_bundle_file: %s
                      - issuer: %s
                        name: rotating
                        audience: %s
                        clock_skew: 5s
                        ca_bundle_file: %s
                        claims:
                          team: team
                      - issuer: %s
                        name: down
                        audience: %s
                        ca_bundle_file: %s
                """.formatted(dir.resolve("data"), k8s, K8S_AUDIENCE, issuers.caBundle(), github, GITHUB_AUDIENCE, issuers.caBundle(),
                rotating, K8S_AUDIENCE, issuers.caBundle(), down, K8S_AUDIENCE, issuers.caBundle()));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock);
        root = server.authority().bundle().x509Authorities().get(0);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (issuers != null) {
            issuers.close();
        }
    }

    @AfterEach
    void closeClients() throws InterruptedException {
        agents.forEach(Agent::close);
        agents.clear();
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        channels.clear();
    }

    private JsonNode admin(String method, String path) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), method, path);
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }

    private Path tokenFile(String token) throws Exception {
        Path file = dir.resolve("token-" + UUID.randomUUID());
        Files.writeString(file, token + "\n");
        return file;
    }

    private AgentSvid attest(String token) throws Exception {
        ManagedChannel channel = AgentApiClient.channel(server.agentApiAddress(), root, null);
        channels.add(channel);
        return AgentApiClient.attest(channel, new JwtAttestorClient(tokenFile(token)), AgentApiClient.csr(AgentApiClient.keys()));
    }

    private void refused(String token, String... reason) {
        assertThatThrownBy(() -> attest(token)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).contains(reason).doesNotContain(token);
        });
    }

    private static List<String> selectors(AgentSvid svid) {
        return svid.getSelectorsList().stream().map(s -> s.getType() + ":" + s.getValue()).toList();
    }

    private String k8sToken(String nodeUid) throws Exception {
        return issuers.mint("k8s", clock.instant(), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "sigil-system", "sigil-agent", "sigil-agent-x7k2p", "node-7", nodeUid));
    }

    @Test
    void aRealAgentJoinsWithAKubernetesTokenAndGetsItsSvidWithTheKubernetesSelectors() throws Exception {
        String nodeUid = UUID.randomUUID().toString();
        Path agentDir = Files.createDirectories(dir.resolve("agent-" + nodeUid));
        Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
        Path bundle = agentDir.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        PluginChoice jwt = new PluginChoice(AgentPlugins.NODE_ATTESTOR, "jwt", new JwtAttestorClientPlugin.Settings(tokenFile(k8sToken(nodeUid))));
        AgentConfig config = new AgentConfig(agentDir.resolve("data"), new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()), new AgentConfig.TrustBootstrap.BundleFile(bundle),
                jwt, agentDir.resolve("api.sock"), Duration.ofHours(1), AgentConfig.LogLevel.WARN);
        Agent agent = new Agent(config, NodeAttestorClients.create(jwt, PluginRegistry.installed()), clock);
        agents.add(agent);

        agent.start();

        String agentId = "spiffe://example.org/sigil/agent/jwt/k8s_psat/prod-eu/" + nodeUid;
        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(agent.svid().orElseThrow().spiffeId().toString()).isEqualTo(agentId);
        JsonNode listed = admin("GET", "/v1/agents/show?spiffe_id=" + agentId);
        assertThat(listed.path("attestor_type").asText()).isEqualTo("jwt");
        assertThat(listed.path("trust_level").asInt()).isEqualTo(2);
        List<String> recorded = new ArrayList<>();
        listed.path("selectors").forEach(s -> recorded.add(s.isTextual() ? s.asText() : s.path("type").asText() + ":" + s.path("value").asText()));
        assertThat(recorded).contains("jwt:k8s:cluster:prod-eu", "jwt:k8s:ns:sigil-system", "jwt:k8s:sa:sigil-agent",
                "jwt:k8s:pod-name:sigil-agent-x7k2p", "jwt:k8s:node-name:node-7", "jwt:k8s:node-uid:" + nodeUid, "jwt:issuer:" + k8s,
                "jwt:sub:system:serviceaccount:sigil-system:sigil-agent");
        assertThat(recorded).anySatisfy(s -> assertThat(s).startsWith("jwt:k8s:pod-uid:pod-"));
    }

    @Test
    void aGithubActionsTokenMapsItsSelectors() throws Exception {
        AgentSvid svid = attest(issuers.mint("github", clock.instant(), Duration.ofMinutes(5),
                TestOidcIssuer.github(GITHUB_AUDIENCE, "octo-org/deploy-tools", "refs/heads/main", "production")));

        assertThat(svid.getSpiffeId()).startsWith("spiffe://example.org/sigil/agent/jwt/github/");
        assertThat(svid.getTrustLevel()).isEqualTo(2);
        assertThat(selectors(svid)).contains("jwt:github:repository:octo-org/deploy-tools", "jwt:github:repository_owner:octo-org",
                "jwt:github:ref:refs/heads/main", "jwt:github:workflow:deploy", "jwt:github:environment:production",
                "jwt:github:job_workflow_ref:octo-org/deploy-tools/.github/workflows/deploy.yml@refs/heads/main", "jwt:issuer:" + github);
    }

    @Test
    void aReplayedTokenIsRefusedAndTheRefusalIsAudited() throws Exception {
        String token = k8sToken(UUID.randomUUID().toString());
        attest(token);

        refused(token, "was already used to attest", "present a freshly issued token");

        JsonNode audit = admin("GET", "/v1/audit?action=agent.attest&limit=500");
        assertThat(audit.toString()).contains("was already used to attest").doesNotContain(token);
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() throws Exception {
        Map<String, Object> claims = new HashMap<>(TestOidcIssuer.kubernetes("vault", "ns", "sa", "pod", "node", "uid-aud"));
        refused(issuers.mint("k8s", clock.instant(), Duration.ofMinutes(10), claims),
                "does not contain '" + K8S_AUDIENCE + "', the audience configured for it");
    }

    @Test
    void aTokenOfAnUnknownIssuerIsRefused() throws Exception {
        JWK key = new RSAKeyGenerator(2048).keyID("k8s-1").generate();
        String token = TestOidcIssuer.sign(key, issuers.standard("k8s", clock.instant(), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-x")).issuer("https://evil.example/k8s").build());

        refused(token, "jwt issuer 'https://evil.example/k8s' is unknown");
    }

    @Test
    void anExpiredTokenIsRefused() throws Exception {
        refused(issuers.mint("k8s", clock.instant().minus(Duration.ofHours(1)), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-exp")), "expired at", "clock skew 30s");
    }

    @Test
    void aTokenNotYetValidIsRefused() throws Exception {
        refused(issuers.mint("k8s", clock.instant().plus(Duration.ofMinutes(5)), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-nbf")), "is not valid before");
    }

    @Test
    void aKubernetesTokenWithoutItsNodeIsRefusedNamingTheMissingClaim() throws Exception {
        Map<String, Object> claims = new HashMap<>(TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-n"));
        claims.put("kubernetes.io", Map.of("namespace", "ns", "serviceaccount", Map.of("name", "sa"),
                "pod", Map.of("name", "pod", "uid", "pod-uid")));

        refused(issuers.mint("k8s", clock.instant(), Duration.ofMinutes(10), claims),
                "misses required claim 'kubernetes.io.node.name' (preset k8s_psat)");
    }

    @Test
    void hmacAndUnsignedTokensAreRefused() throws Exception {
        JWTClaimsSet claims = issuers.standard("k8s", clock.instant(), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-hs")).build();
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k8s-1").build(), claims);
        hmac.sign(new MACSigner(new byte[32]));

        refused(hmac.serialize(), "jwt alg 'HS256' is refused", "hmac");
        refused(new PlainJWT(claims).serialize(), "jwt alg 'none' is refused");
    }

    @Test
    void keyRotationIsPickedUpAtOnceAndATokenOfTheRotatedAwayKeyIsRefused() throws Exception {
        Map<String, Object> claims = Map.of("aud", K8S_AUDIENCE, "sub", "runner-1", "team", "payments");
        AgentSvid before = attest(issuers.mint("rotating", clock.instant(), Duration.ofMinutes(5), claims));
        assertThat(selectors(before)).contains("jwt:team:payments", "jwt:sub:runner-1");

        JWK old = issuers.rotate("rotating");
        clock.advance(Duration.ofSeconds(11));
        int fetches = issuers.jwksFetches();
        AgentSvid after = attest(issuers.mint("rotating", clock.instant(), Duration.ofMinutes(5), claims));

        assertThat(after.getSpiffeId()).isEqualTo(before.getSpiffeId());
        assertThat(issuers.jwksFetches()).as("the unknown kid made the server fetch the jwks again").isEqualTo(fetches + 1);
        refused(TestOidcIssuer.sign(old, issuers.standard("rotating", clock.instant(), Duration.ofMinutes(5), claims).build()),
                "is signed with key 'rotating-1', which is not among the issuer's current keys");
        assertThat(issuers.jwksFetches()).as("refetching is rate-limited").isEqualTo(fetches + 1);
    }

    @Test
    void anIssuerWhoseKeysCannotBeFetchedFailsClosed() throws Exception {
        JWK key = new RSAKeyGenerator(2048).keyID("down-1").generate();
        String token = TestOidcIssuer.sign(key, new JWTClaimsSet.Builder().issuer(down).audience(K8S_AUDIENCE).subject("node")
                .jwtID(UUID.randomUUID().toString()).expirationTime(java.util.Date.from(clock.instant().plus(Duration.ofMinutes(5)))).build());

        refused(token, "cannot get the signing keys of issuer '" + down + "'", "fails closed");
    }

    @Test
    void aTokenOfAnotherKeyWithTheIssuersKidIsRefused() throws Exception {
        JWK forged = new RSAKeyGenerator(2048).keyID(issuers.currentKey("k8s").getKeyID()).generate();
        refused(TestOidcIssuer.sign(forged, issuers.standard("k8s", clock.instant(), Duration.ofMinutes(10),
                TestOidcIssuer.kubernetes(K8S_AUDIENCE, "ns", "sa", "pod", "node", "uid-f")).build()), "has a signature that does not verify with the issuer's key 'k8s-1'");
    }
}
