package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.policy.Decision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil inventory}, {@code sigil report posture} and {@code sigil owner ...} through a running server's admin socket. */
class GovernanceCommandTest {
    private static final String HOLDER = "spiffe://sigil.test/billing";
    /** An owner name an attacker chose: a formula for spreadsheets, markup for browsers (entries refuse control characters). */
    private static final String HOSTILE_OWNER = "=cmd|' /C calc'!A0<script>alert(1)</script>";

    @TempDir
    Path dir;
    private SigilServer server;
    private final Map<LeaseId, String> backend = new ConcurrentHashMap<>();

    private final class MemoryBroker implements Broker {
        @Override
        public String type() {
            return "memory";
        }

        @Override
        public void check(String resource, Map<String, String> parameters) {
        }

        @Override
        public Granted grant(LeaseGrant lease) {
            backend.put(lease.id(), "pw-" + lease.id());
            return new Granted(new CredentialSecret(Map.of("password", "pw-" + lease.id()), "pw-" + lease.id()), Map.of());
        }

        @Override
        public void renew(LeaseGrant lease, Instant newExpiry) {
        }

        @Override
        public void revoke(LeaseGrant lease) {
            backend.remove(lease.id());
        }

        @Override
        public Optional<Set<LeaseId>> granted() {
            return Optional.of(Set.copyOf(backend.keySet()));
        }

        @Override
        public Optional<String> leakKey(String reported) {
            return Optional.of(reported.strip());
        }
    }

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                governance:
                  owners: [team-a, team-b]
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), SigilServer.Options.defaults()
                        .withPolicy(request -> new Decision.Allow(List.of("test"), Decision.Obligations.none()))
                        .withBrokers(List.of(new ConfiguredBroker(new MemoryBroker(), Duration.ofMinutes(15), Duration.ofHours(1)))));
        assertOk(sigil("entry", "create", "--spiffe-id", HOLDER, "--parent-id", "spiffe://sigil.test/node", "--selector", "unix:uid:1000",
                "--owner", "team-a"));
        assertOk(sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/odd", "--parent-id", "spiffe://sigil.test/node",
                "--selector", "unix:uid:1001", "--owner", HOSTILE_OWNER));
        server.leases().issue(new LeaseService.IssueRequest(SpiffeId.parse(HOLDER), false, List.of(), "memory", "db", Optional.empty(),
                Optional.empty(), Map.of()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(server.admin().socketPath().toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    private static CliHarness.Result assertOk(CliHarness.Result result) {
        assertThat(result.exitCode()).as(result.err()).isZero();
        return result;
    }

    @Test
    void inventoryPrintsATableACsvAndTheServersJson() throws Exception {
        String table = assertOk(sigil("inventory")).out();
        assertThat(table).contains("SPIFFE ID").contains("OWNER").contains(HOLDER).contains("team-a").contains("1 (memory)");

        String csv = assertOk(sigil("inventory", "--output", "csv")).out();
        List<String> lines = csv.lines().toList();
        assertThat(lines.get(0)).startsWith("spiffe_id,owner,parent_id,trust_level");
        assertThat(lines).anySatisfy(line -> assertThat(line).startsWith(HOLDER + ",team-a,spiffe://sigil.test/node,"));
        // the hostile owner cannot become a formula, and carries no escape sequence to the terminal
        assertThat(lines).anySatisfy(line -> assertThat(line).contains(",'=cmd|"));
        assertThat(csv).doesNotContain("\u001b").doesNotContain(",=cmd");

        JsonNode json = new ObjectMapper().readTree(assertOk(sigil("inventory", "--output", "json")).out());
        assertThat(json.path("identities")).hasSize(2);
        assertThat(assertOk(sigil("inventory", "--agents")).out()).contains("0 agent(s)");
        CliHarness.Result refused = sigil("inventory", "--output", "html");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("--output html is not offered by this command");
    }

    @Test
    void postureReportPrintsTextJsonAndAnEscapedHtmlPage() throws Exception {
        String text = assertOk(sigil("report", "posture")).out();
        assertThat(text).contains("[HIGH] NHI1 owner").contains("(nhi1.owner_unknown)").contains("identity: spiffe://sigil.test/odd")
                .doesNotContain("\u001b");

        JsonNode json = new ObjectMapper().readTree(assertOk(sigil("report", "posture", "--output", "json")).out());
        assertThat(json.path("findings")).anySatisfy(f -> assertThat(f.path("check").asText()).isEqualTo("nhi1.owner_unknown"));

        String html = assertOk(sigil("report", "posture", "--output", "html")).out();
        assertThat(html).startsWith("<!DOCTYPE html>").contains("nhi1.owner_unknown").contains("&lt;script&gt;")
                .doesNotContain("<script>").doesNotContain("\u001b");
        assertThat(sigil("report", "posture", "--output", "csv").exitCode()).isEqualTo(2);
    }

    @Test
    void ownerOffboardDryRunListsAndChangesNothingThenRevokes() {
        String planned = assertOk(sigil("owner", "offboard", "team-a", "--dry-run")).out();
        assertThat(planned).contains("dry run, nothing changed").contains("would delete 1 entry").contains(HOLDER);
        assertThat(backend).hasSize(1);
        assertThat(sigil("entry", "show", "--spiffe-id", HOLDER).out()).contains("team-a");

        String done = assertOk(sigil("owner", "offboard", "team-a")).out();
        assertThat(done).contains("offboarded 'team-a' deleted 1 entry").contains("revoked 1 lease(s)");
        assertThat(backend).isEmpty();
        assertThat(assertOk(sigil("audit", "query", "--kind", "owner")).out()).contains("owner.offboard");
    }

    @Test
    void ownerTransferMovesEntriesToAKnownOwner() {
        assertThat(assertOk(sigil("owner", "transfer", "team-a", "--to", "team-b")).out())
                .contains("transferred 1 entry from 'team-a' to 'team-b'");
        assertThat(sigil("entry", "show", "--spiffe-id", HOLDER).out()).contains("team-b");
        CliHarness.Result unknown = sigil("owner", "transfer", "team-b", "--to", "nobody");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("owner 'nobody' is not a known owner");
    }
}
