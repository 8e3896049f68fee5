package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.ApiJson;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands against a fake admin API that records what they send. */
class ClientCommandsTest {
    static final ObjectMapper JSON = ApiJson.newMapper();
    static final List<String> seen = new CopyOnWriteArrayList<>();
    static final List<JsonNode> bodies = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dir;
    static AdminServer server;
    static String socket;

    @BeforeAll
    static void start() {
        Routes routes = Routes.builder()
                .post("/v1/entries", request -> {
                    ObjectNode entry = request.body(ObjectNode.class);
                    bodies.add(entry.deepCopy());
                    entry.put("id", "e1").put("revision", 1);
                    return Reply.created(entry);
                })
                .get("/v1/entries", request -> {
                    seen.add("selector=" + request.queryAll("selector") + " match=" + request.query("match").orElse("")
                            + " token=" + request.query("page_token").orElse(""));
                    boolean first = request.query("page_token").isEmpty();
                    return Reply.ok(Map.of("entries", List.of(Map.of("id", first ? "a" : "b", "spiffe_id", "spiffe://sigil.test/" + (first ? "a" : "b"))),
                            "next_page_token", first ? "p2" : ""));
                })
                .get("/v1/entries/{id}", request -> {
                    throw ApiException.notFound("entry '" + request.pathParameter("id") + "' does not exist");
                })
                .post("/v1/svids/x509", request -> {
                    JsonNode body = request.body(JsonNode.class);
                    bodies.add(body);
                    return Reply.ok(Map.of("spiffe_id", body.path("spiffe_id").asText(),
                            "cert_chain_pem", "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
                            "bundle_pem", "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n",
                            "expires_at", "2026-01-01T01:00:00Z"));
                })
                .post("/v1/audit/verify", request -> Reply.ok(Map.of("intact", false, "records", 12,
                        "first_bad_sequence", 7, "reason", "hash of record 7 does not match")))
                .get("/v1/audit", request -> {
                    if (request.query("kind").isPresent()) {
                        seen.add("audit kind=" + request.query("kind").get());
                        return Reply.ok(Map.of("results", List.of(Map.of("seq", 9, "time", "2026-01-01T00:00:01Z",
                                "actor", "spiffe://sigil.test/agent", "action", "workload.drift", "subject", "spiffe://sigil.test/web",
                                "outcome", "success", "details", "{\"drift_id\":\"drift-1\",\"pid\":\"42\",\"reason\":\"selectors_changed\","
                                        + "\"selectors_added\":\"\",\"selectors_removed\":\"unix:sha256:ab\"}"))));
                    }
                    seen.add("audit workload=" + request.query("workload").orElse("") + " resource=" + request.query("resource").orElse("")
                            + " task=" + request.query("task").orElse("") + " action=" + request.query("action").orElse("")
                            + " since=" + request.query("since").orElse("") + " until=" + request.query("until").orElse("")
                            + " limit=" + request.query("limit").orElse(""));
                    return Reply.ok(Map.of("results", List.of(Map.of("seq", 4, "time", "2026-01-01T00:00:00Z", "actor", "admin",
                            "action", "svid.jwt.issue", "subject", "spiffe://sigil.test/web", "outcome", "success", "details", "{}"))));
                })
                .get("/v1/bundle", request -> Reply.ok(Map.of("format", request.query("format").orElse(""), "pem", "PEM-" + request.query("format").orElse("") + "\n")))
                .build();
        Path path = dir.resolve("admin.sock");
        server = AdminServer.create(AdminServer.Options.unixSocket(path), AdminApi.of(routes), Clock.systemUTC());
        server.start();
        socket = path.toString();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(socket);
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    @Test
    void entryCreateSendsEveryFlagInTheApiShapeAndPrintsTheEntry() {
        CliHarness.Result result = sigil("entry", "create", "--spiffe-id", "spiffe://sigil.test/web", "--parent-id", "spiffe://sigil.test/node",
                "--selector", "unix:uid:1000", "--selector", "unix:gid:50", "--x509-svid-ttl", "30m", "--jwt-svid-ttl", "5m",
                "--dns", "web.internal", "--owner", "team-web", "--admin", "--hint", "web", "--expires-at", "2026-12-31T23:59:59Z",
                "--federates-with", "partner.example");
        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(bodies.get(bodies.size() - 1).toString()).isEqualTo("{\"spiffe_id\":\"spiffe://sigil.test/web\","
                + "\"parent_id\":\"spiffe://sigil.test/node\",\"selectors\":[{\"type\":\"unix\",\"value\":\"uid:1000\"},"
                + "{\"type\":\"unix\",\"value\":\"gid:50\"}],\"x509_svid_ttl\":1800,\"jwt_svid_ttl\":300,"
                + "\"dns_names\":[\"web.internal\"],\"owner\":\"team-web\",\"admin\":true,\"hint\":\"web\","
                + "\"expires_at\":\"2026-12-31T23:59:59Z\",\"federates_with\":[\"partner.example\"]}");
        assertThat(result.out()).contains("Entry ID         : e1\n").contains("X509-SVID TTL    : 30m\n")
                .contains("Selector         : unix:uid:1000\n").contains("Admin            : true\n");
    }

    @Test
    void invalidFlagValueIsAUsageErrorNamingTheProblem() {
        CliHarness.Result result = sigil("entry", "create", "--spiffe-id", "http://nope", "--parent-id", "spiffe://sigil.test/n",
                "--selector", "unix:uid:1");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("sigil: Invalid value for option '--spiffe-id': 'http://nope' is not a spiffe id");
    }

    @Test
    void entryShowFollowsPagesAndSendsSelectorFilters() {
        seen.clear();
        CliHarness.Result result = sigil("entry", "show", "--selector", "k8s:ns:web", "--match", "exact");
        assertThat(result.exitCode()).isZero();
        assertThat(seen).containsExactly("selector=[k8s:ns:web] match=exact token=", "selector=[k8s:ns:web] match=exact token=p2");
        assertThat(result.out()).startsWith("Found 2 entries\n").contains("Entry ID         : a").contains("Entry ID         : b");
    }

    @Test
    void serverErrorIsOneLineWithItsCode() {
        CliHarness.Result result = sigil("entry", "show", "--id", "nope");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: entry 'nope' does not exist (not_found)\n");
    }

    @Test
    void x509MintWritesTheKeyOwnerOnlyAndSendsOnlyACsr() throws Exception {
        Path out = dir.resolve("svid");
        CliHarness.Result result = sigil("x509", "mint", "--spiffe-id", "spiffe://sigil.test/batch", "--ttl", "1h", "--write", out.toString());
        assertThat(result.exitCode()).isZero();
        JsonNode sent = bodies.get(bodies.size() - 1);
        assertThat(sent.path("csr").asText()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
        assertThat(sent.path("ttl").asLong()).isEqualTo(3600);
        assertThat(sent.toString()).doesNotContain("PRIVATE KEY");
        assertThat(out.resolve("svid.pem")).hasContent("-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----");
        assertThat(out.resolve("bundle.pem")).hasContent("-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----");
        assertThat(Files.readString(out.resolve("svid.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("svid.key")))).isEqualTo("rw-------");
        assertThat(result.out()).contains("wrote the x509-svid for spiffe://sigil.test/batch");
    }

    @Test
    void bundleShowAsksForTheFormatAndPrintsThePem() {
        CliHarness.Result result = sigil("bundle", "show", "--format", "pem");
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).isEqualTo("PEM-pem\n");
    }

    @Test
    void brokenAuditTrailExitsOneWithTheRecord() {
        CliHarness.Result result = sigil("audit", "verify");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("sigil: audit trail is broken at record 7: hash of record 7 does not match\n");
        CliHarness.Result json = sigil("audit", "verify", "--output", "json");
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(json.out()).contains("\"intact\" : false");
    }

    @Test
    void auditQuerySendsEveryFilterAndPrintsOneLinePerRecord() {
        CliHarness.Result result = sigil("audit", "query", "--workload", "spiffe://sigil.test/web", "--resource", "db:orders",
                "--task", "t-1", "--action", "svid.", "--since", "2026-01-01T00:00:00Z", "--until", "2026-01-02T00:00:00Z", "--limit", "5");

        assertThat(result.err()).isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(seen).contains("audit workload=spiffe://sigil.test/web resource=db:orders task=t-1 action=svid. "
                + "since=2026-01-01T00:00:00Z until=2026-01-02T00:00:00Z limit=5");
        assertThat(result.out()).isEqualTo("4 2026-01-01T00:00:00Z admin svid.jwt.issue spiffe://sigil.test/web success\n");
        assertThat(sigil("audit", "query", "--output", "json").out()).contains("\"action\" : \"svid.jwt.issue\"");
    }

    @Test
    void auditQueryByKindDriftShowsWhatChanged() {
        CliHarness.Result result = sigil("audit", "query", "--kind", "drift");

        assertThat(result.exitCode()).isZero();
        assertThat(seen).contains("audit kind=drift");
        assertThat(result.out()).isEqualTo("9 2026-01-01T00:00:01Z spiffe://sigil.test/agent workload.drift spiffe://sigil.test/web success"
                + " drift_id=drift-1 reason=selectors_changed pid=42 selectors_removed=unix:sha256:ab selectors_added=\n");
    }

    @Test
    void groupWithoutSubcommandIsAUsageError() {
        CliHarness.Result result = new CliHarness(Map.of(), dir).run("entry");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("sigil: missing subcommand; choose one of: create, update, delete, show, list");
    }
}
