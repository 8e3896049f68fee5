package dev.sigil.server.governance;

import static dev.sigil.server.governance.AdminCalls.call;
import static dev.sigil.server.governance.AdminCalls.findings;
import static dev.sigil.server.governance.AdminCalls.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every posture finding over seeded data: a real server (stored policy, a memory broker, an injected clock),
 * data written through the admin socket and the lease service, the report read through the admin socket.
 * Seeded once: entries, a policy and a task at t0, then two hours later (stale_after is 1h) leases, a
 * renewal, a leak report and an admin-minted JWT-SVID.
 */
class PostureFindingsTest {
    private static final String GONE_AGENT = "spiffe://example.org/sigil/agent/join_token/gone";
    private static final String BILLING = "spiffe://example.org/billing";
    private static final String ORPHAN = "spiffe://example.org/orphan";
    private static final String BATCH = "spiffe://example.org/batch";
    private static final String SHARED = "spiffe://example.org/shared";
    private static final String CONSOLE = "spiffe://example.org/console";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SigilServer server;
    static MemoryBroker broker = new MemoryBroker();
    static JsonNode posture;
    static JsonNode inventory;

    @BeforeAll
    static void seed() throws Exception {
        MutableClock clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                ca:
                  ttl: 168h
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                governance:
                  owners: [team-a, team-b]
                  stale_after: 1h
                  max_credential_ttl: 24h
                  max_svid_ttl: 24h
                  reuse_max_nodes: 3
                  reuse_max_binaries: 3
                  environments:
                    prod: ["prod-*"]
                    staging: ["staging-*"]
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock, SigilServer.Options.defaults()
                        .withBrokers(List.of(new ConfiguredBroker(broker, Duration.ofHours(3), Duration.ofHours(48)))));

        call(server, "PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", """
                rules:
                  - name: billing-all
                    effect: allow
                    subject: {spiffe_id: "spiffe://example.org/billing"}
                    actions: [credential:issue]
                    resources: ["*"]
                  - name: reports-warehouse
                    effect: allow
                    subject: {spiffe_id: "spiffe://example.org/reports"}
                    actions: [credential:issue]
                    resources: [warehouse]
                  - name: partner-everything
                    effect: allow
                    subject: {spiffe_id: "spiffe://partner.example/*"}
                    actions: ["*"]
                    resources: ["*"]
                """)));
        entry(BILLING, GONE_AGENT, "team-a", "uid:1000", "");
        entry(ORPHAN, GONE_AGENT, "team-z", "uid:1001", "");
        entry(BATCH, "spiffe://example.org/node/batch", "team-b", "uid:1002", ", \"x509_svid_ttl\": 172800");
        for (int i = 1; i <= 4; i++) {
            entry(SHARED, "spiffe://example.org/node/n" + i, "team-b", "sha256:" + "%064d".formatted(i), "");
        }
        entry(CONSOLE, "spiffe://example.org/node/console", "team-b", "uid:1003", "");
        String task = call(server, "POST", "/v1/tasks", """
                {"owner": "team-a", "holder": "%s", "purpose": "monthly close", "allowed": ["read:memory:prod-db", "read:memory:archive"], "ttl": 10800}"""
                .formatted(BILLING)).path("id").asText();

        clock.advance(Duration.ofHours(2));
        issue("prod-db", Optional.of(task));
        issue("staging-db", Optional.empty());
        String renewed = issue("vault", Optional.empty()).lease().id().value();
        call(server, "POST", "/v1/leases/" + renewed + "/renew", "{\"ttl\": \"47h50m\"}");
        LeaseService.Issued leaky = issue("prod-cache", Optional.empty());
        call(server, "POST", "/v1/leaks", JSON.writeValueAsString(Map.of("value", leaky.secret().revealToHolder().get("password"))));
        call(server, "POST", "/v1/svids/jwt", "{\"spiffe_id\": \"%s\", \"audience\": [\"https://ops\"]}".formatted(CONSOLE));

        posture = call(server, "GET", "/v1/posture", null);
        inventory = call(server, "GET", "/v1/inventory", null);
    }

    private static void entry(String id, String parent, String owner, String selector, String more) throws Exception {
        call(server, "POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "owner": "%s", "selectors": [{"type": "unix", "value": "%s"}]%s}"""
                .formatted(id, parent, owner, selector, more));
    }

    private static LeaseService.Issued issue(String resource, Optional<String> task) {
        return server.leases().issue(new LeaseService.IssueRequest(SpiffeId.parse(BILLING), false, List.of(), "memory", resource, task,
                Optional.of(Duration.ofHours(1)), Map.of()));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode only(String check) {
        List<JsonNode> found = findings(posture, check);
        assertThat(found).as(check + " in " + posture.path("findings")).hasSize(1);
        return found.get(0);
    }

    @Test
    void anOwnerMissingFromTheOwnerListIsImproperOffboarding() {
        JsonNode finding = only("nhi1.owner_unknown");
        assertThat(finding.path("nhi").asText()).isEqualTo("NHI1");
        assertThat(finding.path("severity").asText()).isEqualTo("high");
        assertThat(texts(finding.path("identities"))).containsExactly(ORPHAN);
        assertThat(finding.path("fix").asText()).contains("sigil owner transfer 'team-z'");
    }

    @Test
    void anIdentityWhoseParentAgentIsGoneIsReported() {
        JsonNode finding = findings(posture, "nhi1.agent_gone").stream()
                .filter(f -> f.path("title").asText().contains(GONE_AGENT)).findFirst().orElseThrow();
        assertThat(finding.path("severity").asText()).isEqualTo("high");
        assertThat(texts(finding.path("identities"))).containsExactly(BILLING, ORPHAN);
    }

    @Test
    void anIdentityNotServedForTheThresholdIsReportedAndAServedOneIsNot() {
        List<String> stale = findings(posture, "nhi1.not_served").stream().flatMap(f -> texts(f.path("identities")).stream()).toList();
        assertThat(stale).contains(ORPHAN, BATCH, BILLING).doesNotContain(CONSOLE);
        assertThat(findings(posture, "nhi1.not_served")).allSatisfy(f -> assertThat(f.path("severity").asText()).isEqualTo("medium"));
    }

    @Test
    void aReportedLeakNamesItsHolderAndTheRevokedLease() {
        JsonNode finding = only("nhi2.leak_reported");
        assertThat(finding.path("nhi").asText()).isEqualTo("NHI2");
        assertThat(finding.path("severity").asText()).isEqualTo("high");
        assertThat(texts(finding.path("identities"))).containsExactly(BILLING);
        assertThat(finding.path("detail").asText()).contains("revoked lease(s)");
    }

    @Test
    void aBroadGrantToAnotherTrustDomainIsAThirdPartyRisk() {
        JsonNode finding = only("nhi3.foreign_broad_grant");
        assertThat(finding.path("severity").asText()).isEqualTo("high");
        assertThat(texts(finding.path("identities"))).containsExactly("spiffe://partner.example/*");
        assertThat(finding.path("detail").asText()).contains("partner-everything");
    }

    @Test
    void aPolicyRuleThatAllowedNothingInTheWindowIsOverprivilegeAndAUsedOneIsNot() {
        List<JsonNode> unused = findings(posture, "nhi5.rule_unused");
        assertThat(unused).extracting(f -> f.path("detail").asText())
                .anyMatch(d -> d.contains("'reports-warehouse'"))
                .anyMatch(d -> d.contains("'partner-everything'"))
                .noneMatch(d -> d.contains("'billing-all'"));
        assertThat(unused).allSatisfy(f -> assertThat(f.path("severity").asText()).isEqualTo("low"));
    }

    @Test
    void aTaskAllowanceNeverUsedIsReportedWithoutTheUsedOne() {
        JsonNode finding = only("nhi5.task_allowance_unused");
        assertThat(texts(finding.path("identities"))).containsExactly(BILLING);
        assertThat(finding.path("detail").asText()).contains("read:memory:archive").doesNotContain("read:memory:prod-db");
    }

    @Test
    void longLivedSvidsAndCredentialsAndRenewalsToTheMaximumAreLongLivedSecrets() {
        JsonNode svid = only("nhi7.long_lived_svid");
        assertThat(svid.path("severity").asText()).isEqualTo("medium");
        assertThat(texts(svid.path("identities"))).containsExactly(BATCH);
        assertThat(findings(posture, "nhi7.long_lived_credential")).isNotEmpty()
                .allSatisfy(f -> assertThat(texts(f.path("identities"))).containsExactly(BILLING));
        JsonNode renewed = only("nhi7.renewed_to_max");
        assertThat(renewed.path("severity").asText()).isEqualTo("low");
        assertThat(texts(renewed.path("identities"))).containsExactly(BILLING);
    }

    @Test
    void oneIdentityHoldingCredentialsInTwoEnvironmentsBreaksIsolation() {
        JsonNode finding = only("nhi8.environments_mixed");
        assertThat(finding.path("severity").asText()).isEqualTo("high");
        assertThat(texts(finding.path("identities"))).containsExactly(BILLING);
        assertThat(finding.path("detail").asText()).contains("prod and staging");
    }

    @Test
    void oneSpiffeIdUnderManyNodesAndBinariesIsReuse() {
        assertThat(texts(only("nhi9.many_nodes").path("identities"))).containsExactly(SHARED);
        assertThat(texts(only("nhi9.many_binaries").path("identities"))).containsExactly(SHARED);
    }

    @Test
    void anSvidMintedThroughTheAdminApiIsHumanUse() {
        JsonNode finding = only("nhi10.admin_minted");
        assertThat(finding.path("severity").asText()).isEqualTo("medium");
        assertThat(texts(finding.path("identities"))).containsExactly(CONSOLE);
        assertThat(finding.path("detail").asText()).contains("local:");
    }

    @Test
    void thresholdsComeFromTheConfigurationAndEveryConfiguredCheckRan() {
        assertThat(posture.path("thresholds").path("stale_after").asText()).isEqualTo("1h");
        assertThat(posture.path("activity_complete").asBoolean()).isTrue();
        assertThat(posture.path("not_evaluated")).isEmpty();
        assertThat(posture.path("summary").path("high").asInt()).isEqualTo(findings(posture, "nhi1.owner_unknown").size()
                + (int) findings(posture, "nhi1.agent_gone").stream().filter(f -> f.path("severity").asText().equals("high")).count()
                + 3);
    }

    @Test
    void theInventoryListsOwnersCredentialsTasksAndActivity() {
        JsonNode billing = identity(BILLING);
        assertThat(billing.path("owner").asText()).isEqualTo("team-a");
        assertThat(billing.path("parent_id").asText()).isEqualTo(GONE_AGENT);
        assertThat(billing.path("last_exchanged").asText()).isNotEmpty();
        assertThat(billing.path("tasks")).hasSize(1);
        assertThat(billing.path("tasks").get(0).path("purpose").asText()).isEqualTo("monthly close");
        assertThat(billing.path("credentials")).extracting(c -> c.path("resource").asText())
                .containsExactlyInAnyOrder("prod-db", "staging-db", "vault");
        assertThat(billing.path("credentials")).allSatisfy(c -> {
            assertThat(c.path("broker").asText()).isEqualTo("memory");
            // the broker's maximum, or the task's end for the lease granted under the task (an hour after it)
            assertThat(c.path("max_ttl").asLong()).isEqualTo(c.has("task") ? Duration.ofHours(1).toSeconds() : Duration.ofHours(48).toSeconds());
        });
        assertThat(identity(CONSOLE).path("last_served").asText()).isNotEmpty();
        assertThat(identity(ORPHAN).has("last_served")).isFalse();
        assertThat(identity(BATCH).path("x509_svid_ttl").asLong()).isEqualTo(172_800);
        assertThat(inventory.path("identities").toString()).doesNotContain(broker.backend.values().iterator().next());
    }

    private static JsonNode identity(String id) {
        for (JsonNode identity : inventory.path("identities")) {
            if (identity.path("spiffe_id").asText().equals(id)) {
                return identity;
            }
        }
        throw new AssertionError(id + " is not in the inventory");
    }
}
