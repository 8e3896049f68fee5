package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.agent.AgentRoutes;
import dev.sigil.server.agent.AgentStore;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil agent list|show|ban|evict} against the real agent routes and store on a temporary SQLite. */
class AgentCommandTest {
    private static final SpiffeId NODE = SpiffeId.parse("spiffe://sigil.test/sigil/agent/join_token/0123456789abcdef");
    @TempDir
    Path dir;
    private Datastore datastore;
    private AuditTrail audit;
    private AgentStore agents;
    private AdminServer server;

    @BeforeEach
    void start() {
        Clock clock = Clock.systemUTC();
        datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")));
        audit = AuditTrail.create(datastore, clock);
        agents = AgentStore.create(datastore, audit, clock);
        agents.recordAttestation(new AgentStore.Attestation(NODE, "join_token", List.of(Selector.parse("join_token:id:0123456789abcdef")),
                1, BigInteger.valueOf(0xbeef), clock.instant().plus(Duration.ofHours(1))), "agent-api:127.0.0.1");
        server = AdminServer.create(AdminServer.Options.unixSocket(dir.resolve("admin.sock")),
                AdminApi.of(new AgentRoutes(agents).routes()), clock);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        datastore.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(dir.resolve("admin.sock").toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    @Test
    void listShowsEveryAgentWithItsAttestation() {
        CliHarness.Result result = sigil("agent", "list");

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("SPIFFE ID        : " + NODE + "\n").contains("Attestor         : join_token\n")
                .contains("Selector         : join_token:id:0123456789abcdef\n").contains("SVID serial      : beef\n")
                .contains("Banned           : false\n");
    }

    @Test
    void showNamesTheNodesAttestorItsEvidenceAndTrustLevel() {
        SpiffeId strong = SpiffeId.parse("spiffe://sigil.test/sigil/agent/x509pop/" + "ab".repeat(20));
        agents.recordAttestation(new AgentStore.Attestation(strong, "x509pop", List.of(Selector.parse("x509pop:subject:cn:node-7"),
                Selector.parse("x509pop:fingerprint:" + "ab".repeat(32)), Selector.parse("x509pop:ca:fingerprint:" + "cd".repeat(32))),
                2, BigInteger.valueOf(0xcafe), Instant.now().plus(Duration.ofHours(1))), "agent-api:127.0.0.1");

        CliHarness.Result result = sigil("agent", "show", "--spiffe-id", strong.toString());

        assertThat(result.err()).isEmpty();
        assertThat(result.out()).contains("Attestor         : x509pop\n")
                .contains("Evidence         : proof of possession of the key of certificate cn=node-7 (sha-256 " + "ab".repeat(8)
                        + "...), issued by ca " + "cd".repeat(8) + "...\n")
                .contains("Trust level      : 2 (verified cryptographic evidence)\n")
                .doesNotContain("Last quote");
        assertThat(sigil("agent", "show", "--spiffe-id", NODE.toString()).out())
                .contains("Evidence         : join token 0123456789abcdef (single use; no key or platform proof)\n")
                .contains("Trust level      : 1 (platform metadata only)\n");
        assertThat(audit.query(AuditQuery.all().byActionPrefix("agent.attest")))
                .anySatisfy(record -> assertThat(record.details()).contains("\"evidence\":\"proof of possession of the key of certificate"
                        + " cn=node-7 (sha-256 " + "ab".repeat(8) + "...), issued by ca " + "cd".repeat(8) + "...\"")
                        .contains("\"trust_level\":\"2\""));
    }

    @Test
    void banIsRecordedAndShownAndEvictRemovesTheAgent() {
        CliHarness.Result ban = sigil("agent", "ban", "--spiffe-id", NODE.toString());
        assertThat(ban.err()).isEmpty();
        assertThat(ban.out()).isEqualTo("banned agent " + NODE + "\n");
        assertThat(agents.find(NODE).orElseThrow().banned()).isTrue();
        assertThat(sigil("agent", "show", "--spiffe-id", NODE.toString()).out()).contains("Banned           : true\n");
        assertThat(audit.query(AuditQuery.all().byActionPrefix("agent.ban"))).singleElement()
                .satisfies(record -> assertThat(record.actor()).startsWith("local:"));

        assertThat(sigil("agent", "evict", "--spiffe-id", NODE.toString()).out()).isEqualTo("evicted agent " + NODE + "\n");
        assertThat(agents.find(NODE)).isEmpty();
        assertThat(sigil("agent", "list").out()).isEqualTo("no agents\n");
    }

    @Test
    void unknownAgentIsANotFoundFailure() {
        CliHarness.Result result = sigil("agent", "ban", "--spiffe-id", "spiffe://sigil.test/sigil/agent/x509pop/none");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("agent 'spiffe://sigil.test/sigil/agent/x509pop/none' is not registered");
    }

    @Test
    void agentAloneIsAUsageErrorNamingTheSubcommands() {
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("agent");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("list, show, ban, evict");
    }
}
