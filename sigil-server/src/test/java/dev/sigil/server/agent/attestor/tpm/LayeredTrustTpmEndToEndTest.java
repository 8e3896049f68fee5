package dev.sigil.server.agent.attestor.tpm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.Agent;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.attestor.TpmAttestorClient;
import dev.sigil.agent.attestor.TpmTools;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.server.agent.Credentials;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.Swtpm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layered trust end to end, with a stored policy that asks trust level 3 for a PostgreSQL credential:
 * the same workload (same uid, same pinned binary digest) registered under a join-token node is refused
 * with the levels named, and under a TPM-attested node granted a working login; extending a PCR of that
 * node's TPM then revokes the granted credential in PostgreSQL within two seconds of the next quote.
 */
class LayeredTrustTpmEndToEndTest {
    private static final String ZERO = "0".repeat(64);
    private static final String DIGEST = "sha256:" + "5f".repeat(32);
    private static final String ON_JOIN = "spiffe://example.org/reports/on-join-node";
    private static final String ON_TPM = "spiffe://example.org/reports/on-tpm-node";
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aLevelThreeCredentialIsRefusedOnAJoinTokenNodeGrantedOnATpmNodeAndRevokedWhenItsPcrsDrift() throws Exception {
        Swtpm.assumeAvailable();
        BrokerDatabase pg = BrokerDatabase.create();
        try (Swtpm tpmChip = Swtpm.start(Files.createDirectories(dir.resolve("tpm")), dir.resolve("vendor-ca"));
             SigilServer server = start(Files.createDirectories(dir.resolve("server")), tpmChip, pg)) {
            applyPolicy(server);
            String joinToken = admin(server, "POST", "/v1/join-tokens", "{\"ttl\": 600}").path("token").asText();
            try (Agent joinNode = agent(server, new JoinTokenAttestorClient(joinToken),
                    dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(joinToken));
                 TpmTools tools = new TpmTools(tpmChip.tcti());
                 Agent tpmNode = agent(server, new TpmAttestorClient(tools), dev.sigil.agent.attestor.TpmAttestorClientPlugin.choice(tpmChip.tcti()))) {
                joinNode.start();
                tpmNode.start();
                register(server, ON_JOIN, joinNode.svid().orElseThrow().spiffeId().toString());
                register(server, ON_TPM, tpmNode.svid().orElseThrow().spiffeId().toString());

                // join-token node: level min(1, 3) = 1, below the rule's 3
                RawHttp.Reply refused = credential(server, ON_JOIN);
                assertThat(refused.status()).as(refused.body()).isEqualTo(403);
                assertThat(refused.body()).contains("trust level").contains("3").contains("node").contains("join_token");
                assertThat(pg.roles()).isEmpty();

                // TPM node: level min(3, 3) = 3 (the binary is pinned by digest)
                Credentials held = Credentials.obtain(server, ON_TPM);
                try (Connection session = DriverManager.getConnection(held.pgUrl(), held.pgUser(), held.pgPassword())) {
                    assertThat(held.reads(session)).isTrue();
                }
                assertThat(held.roleExists(pg.database())).isTrue();

                tpmChip.extendPcr(16, "ab".repeat(32));
                long extended = System.nanoTime();
                Eventually.within(Duration.ofSeconds(4), () -> assertThat(held.roleExists(pg.database()))
                        .as("the role of the credential granted on the drifted node").isFalse());
                // the next quote comes within the 1 s interval; the revocation within 2 s of it
                assertThat(System.nanoTime() - extended).isLessThan(TimeUnit.SECONDS.toNanos(3));
                assertThat(held.tokenActive(server)).isFalse();
            }
        }
    }

    private static SigilServer start(Path root, Swtpm tpm, BrokerDatabase pg) throws Exception {
        Path bundle = root.resolve("ek-cas.pem");
        Files.writeString(bundle, tpm.caBundlePem());
        Path file = root.resolve("sigil.yaml");
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
                  enabled: false
                agent_api:
                  port: 0
                node_attestors:
                  join_token: {}
                  tpm:
                    ek_ca_bundle_file: %s
                    pcr_selection: [0, 7, 16]
                    quote_interval: 1s
                    pcr_policies:
                      - name: golden
                        pcrs:
                          16: ["%s"]
                """.formatted(root.resolve("data"), bundle, ZERO) + pg.brokersYaml(root));
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root), ConfigOverrides.none()),
                Clock.systemUTC());
    }

    /** The operator's policy: any reports workload may exchange tokens; the database only at trust level 3. */
    private void applyPolicy(SigilServer server) throws Exception {
        String yaml = """
                rules:
                  - name: reports-exchange
                    effect: allow
                    subject:
                      spiffe_id: spiffe://example.org/reports/*
                    actions: [token:exchange]
                    resources: [https://api.example.org]
                  - name: reports-database-needs-hardware
                    effect: allow
                    subject:
                      spiffe_id: spiffe://example.org/reports/*
                      min_trust_level: 3
                    actions: [credential:issue]
                    resources: [postgresql:reports]
                """;
        admin(server, "PUT", "/v1/policy", json.writeValueAsString(Map.of("yaml", yaml)));
    }

    private void register(SigilServer server, String spiffeId, String parent) throws Exception {
        admin(server, "POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-reports",
                 "selectors": [{"type": "unix", "value": "uid:1000"}, {"type": "unix", "value": "%s"}]}""".formatted(spiffeId, parent, DIGEST));
    }

    private RawHttp.Reply credential(SigilServer server, String holder) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String svid = server.authority().mintJwtSvid(SpiffeId.parse(holder), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        return RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials", "application/json",
                "{\"broker\":\"postgresql\",\"resource\":\"reports\"}".getBytes(StandardCharsets.UTF_8), Map.of("Authorization", "Bearer " + svid));
    }

    private Agent agent(SigilServer server, NodeAttestorClient attestor, dev.sigil.core.plugin.PluginChoice choice) throws Exception {
        Path data = Files.createDirectories(dir.resolve("agent-" + System.nanoTime()));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Path bundle = data.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        return new Agent(new AgentConfig(data, new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), choice,
                data.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN), attestor, Clock.systemUTC());
    }

    private JsonNode admin(SigilServer server, String method, String path, String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(method + " " + path + ": " + reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }
}
