package dev.sigil.server.governance;

import static dev.sigil.server.governance.AdminCalls.call;
import static dev.sigil.server.governance.AdminCalls.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.server.SigilServer;
import dev.sigil.server.agent.Credentials;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.Eventually;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offboarding an owner end to end: its workload holds a real PostgreSQL login role (the postgresql broker
 * against a real PostgreSQL) and an access token from token exchange, and works under a task. A dry run
 * lists all of it and changes nothing; the real run ends the task, deletes the entries, drops the role and
 * makes the token read inactive at introspection, while another owner's workload keeps everything.
 */
class OffboardEndToEndTest {
    private static final String LEAVING = "spiffe://example.org/billing";
    private static final String STAYING = "spiffe://example.org/reports";

    @TempDir
    Path dir;

    @Test
    void offboardingRevokesEverythingTheOwnersIdentitiesHoldAndADryRunChangesNothing() throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server")) + pg.brokersYaml(dir));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())))) {
            String leavingEntry = call(server, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "spiffe://example.org/node/a", "owner": "alice", "selectors": [{"type": "unix", "value": "uid:1000"}]}"""
                    .formatted(LEAVING)).path("id").asText();
            call(server, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "spiffe://example.org/node/a", "owner": "bob", "selectors": [{"type": "unix", "value": "uid:1001"}]}"""
                    .formatted(STAYING));
            String task = call(server, "POST", "/v1/tasks", """
                    {"owner": "alice", "holder": "%s", "purpose": "quarter close", "allowed": ["read:postgresql:reports"], "ttl": 3600}"""
                    .formatted(LEAVING)).path("id").asText();
            Credentials leaving = Credentials.obtain(server, LEAVING);
            Credentials staying = Credentials.obtain(server, STAYING);
            List<String> leaseIds = call(server, "GET", "/v1/leases?state=active&holder=" + enc(LEAVING), null).path("leases")
                    .findValues("id").stream().map(JsonNode::asText).toList();
            assertThat(leaseIds).as("the role's lease and the access token's lease").hasSize(2);

            JsonNode plan = call(server, "POST", "/v1/owners/offboard", "{\"owner\": \"alice\", \"dry_run\": true}");

            assertThat(plan.path("dry_run").asBoolean()).isTrue();
            assertThat(texts(plan.path("entries"))).containsExactly(leavingEntry);
            assertThat(texts(plan.path("identities"))).containsExactly(LEAVING);
            assertThat(texts(plan.path("leases"))).containsExactlyInAnyOrderElementsOf(leaseIds);
            assertThat(texts(plan.path("tasks"))).containsExactly(task);
            // the dry run changed no row: entry, leases, task, role and token are as they were, and nothing was audited
            assertThat(call(server, "GET", "/v1/entries/" + leavingEntry, null).path("owner").asText()).isEqualTo("alice");
            assertThat(call(server, "GET", "/v1/leases?state=active&holder=" + enc(LEAVING), null).path("leases")).hasSize(2);
            assertThat(call(server, "GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("active");
            assertThat(leaving.roleExists(pg.database())).isTrue();
            assertThat(leaving.tokenActive(server)).isTrue();
            assertThat(call(server, "GET", "/v1/audit?kind=owner", null).path("results")).isEmpty();

            JsonNode done = call(server, "POST", "/v1/owners/offboard", "{\"owner\": \"alice\"}");

            assertThat(done.path("dry_run").asBoolean()).isFalse();
            assertThat(texts(done.path("identities"))).containsExactly(LEAVING);
            Eventually.within(Duration.ofSeconds(15), () -> assertThat(leaving.roleExists(pg.database())).as("the lease's role").isFalse());
            assertThat(leaving.tokenActive(server)).as("introspection of the access token").isFalse();
            assertThat(AdminCalls.raw(server, "GET", "/v1/entries/" + leavingEntry, "").status()).isEqualTo(404);
            assertThat(call(server, "GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("ended");
            assertThat(call(server, "GET", "/v1/leases?holder=" + enc(LEAVING), null).path("leases"))
                    .allSatisfy(lease -> assertThat(lease.path("state").asText()).isIn("revoking", "revoked"));
            // another owner's workload keeps what it holds
            assertThat(staying.roleExists(pg.database())).isTrue();
            assertThat(staying.tokenActive(server)).isTrue();
            JsonNode records = call(server, "GET", "/v1/audit?kind=owner", null).path("results");
            assertThat(records).hasSize(1);
            assertThat(records.get(0).path("action").asText()).isEqualTo("owner.offboard");
            assertThat(records.get(0).path("actor").asText()).startsWith("local:");
            assertThat(records.get(0).path("subject").asText()).isEqualTo("alice");
            JsonNode withdrawn = call(server, "GET", "/v1/audit?action=identity.withdraw&workload=" + enc(LEAVING), null).path("results");
            assertThat(withdrawn).anySatisfy(r -> assertThat(r.path("details").asText())
                    .contains("owner alice offboarded by local:"));
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
