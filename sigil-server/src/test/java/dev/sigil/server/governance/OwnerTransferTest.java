package dev.sigil.server.governance;

import static dev.sigil.server.governance.AdminCalls.call;
import static dev.sigil.server.governance.AdminCalls.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /v1/owners/transfer} through the admin socket, against a configured owner list. */
class OwnerTransferTest {
    @TempDir
    Path dir;
    private SigilServer server;
    private String first;
    private String second;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                governance:
                  owners: [alice, bob]
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC());
        first = entry("spiffe://example.org/a", "alice");
        second = entry("spiffe://example.org/b", "alice");
        entry("spiffe://example.org/c", "bob");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private String entry(String id, String owner) throws Exception {
        return call(server, "POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "spiffe://example.org/node", "owner": "%s", "selectors": [{"type": "unix", "value": "uid:1"}]}"""
                .formatted(id, owner)).path("id").asText();
    }

    @Test
    void transferMovesEveryEntryOfTheOwnerAndAuditsTheAdmin() throws Exception {
        JsonNode moved = call(server, "POST", "/v1/owners/transfer", "{\"owner\": \"alice\", \"to\": \"bob\"}");

        assertThat(texts(moved.path("entries"))).containsExactlyInAnyOrder(first, second);
        assertThat(call(server, "GET", "/v1/entries/" + first, null).path("owner").asText()).isEqualTo("bob");
        assertThat(call(server, "GET", "/v1/entries/" + second, null).path("owner").asText()).isEqualTo("bob");
        JsonNode records = call(server, "GET", "/v1/audit?kind=owner", null).path("results");
        assertThat(records).hasSize(1);
        assertThat(records.get(0).path("action").asText()).isEqualTo("owner.transfer");
        assertThat(records.get(0).path("actor").asText()).startsWith("local:");
        assertThat(records.get(0).path("details").asText()).contains("\"to\":\"bob\"");
        assertThat(call(server, "GET", "/v1/audit?action=entry.update", null).path("results")).hasSize(2)
                .allSatisfy(r -> assertThat(r.path("actor").asText()).startsWith("local:"));
        JsonNode posture = call(server, "GET", "/v1/posture", null);
        assertThat(AdminCalls.findings(posture, "nhi1.owner_unknown")).isEmpty();
    }

    @Test
    void aDryRunTransferChangesNothing() throws Exception {
        JsonNode planned = call(server, "POST", "/v1/owners/transfer", "{\"owner\": \"alice\", \"to\": \"bob\", \"dry_run\": true}");

        assertThat(planned.path("dry_run").asBoolean()).isTrue();
        assertThat(texts(planned.path("entries"))).containsExactlyInAnyOrder(first, second);
        assertThat(call(server, "GET", "/v1/entries/" + first, null).path("owner").asText()).isEqualTo("alice");
        assertThat(call(server, "GET", "/v1/audit?kind=owner", null).path("results")).isEmpty();
        assertThat(call(server, "GET", "/v1/audit?action=entry.update", null).path("results")).isEmpty();
    }

    @Test
    void aTransferToAnUnknownOwnerIsRefusedNamingTheKnownOnes() throws Exception {
        RawHttp.Reply refused = AdminCalls.raw(server, "POST", "/v1/owners/transfer", "{\"owner\": \"alice\", \"to\": \"mallory\\u0007\"}");

        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_argument").contains("is not a known owner").contains("alice, bob")
                .doesNotContain("\u0007").doesNotContain("\\u0007");
        assertThat(call(server, "GET", "/v1/entries/" + first, null).path("owner").asText()).isEqualTo("alice");
        RawHttp.Reply blank = AdminCalls.raw(server, "POST", "/v1/owners/offboard", "{\"owner\": \" \"}");
        assertThat(blank.status()).isEqualTo(400);
        assertThat(blank.body()).contains("field 'owner' is missing or blank");
    }
}
