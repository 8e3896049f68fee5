package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.testkit.BrokerDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code sigil server run} with the postgresql broker, killed with kill -9 while workloads are
 * being granted credentials and an operator is revoking them, then restarted on the same data
 * directory. The kill is proven to land mid-operation (the store holds pending or revoking leases at
 * the kill). Leases that must survive it (long TTL, never revoked) are still active after the restart
 * and their credentials still log in; once start-up reconciliation and the revocation worker are done,
 * the PostgreSQL roles that exist are exactly the roles of the leases the server holds as active, a
 * non-empty set — nothing granted that it considers revoked or never recorded, nothing active missing.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // two server start-ups and 20 s of load on a loaded machine
class LeaseKillTest {
    private static final String HOLDER = "spiffe://sigil.test/crash/report-job";
    /** Holds the leases that must survive the kill: never revoked, far from expiry. */
    private static final String KEEPER = "spiffe://sigil.test/crash/keeper";
    private static final int KEPT = 3;
    private static final String POLICY = """
            rules:
              - name: crash-jobs-read-reports
                effect: allow
                subject:
                  spiffe_id: spiffe://sigil.test/crash/*
                actions: [credential:issue]
                resources: [postgresql:reports]
            """;
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void killDuringGrantsAndRevocationsLeavesBackendAndLeasesInAgreementAfterRestart() throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, pg.brokersYaml(dir));
        Path data = dir.resolve("data");
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        CliHarness cli = new CliHarness(Map.of(), dir);
        int bundlePort = ServerProcess.freePort();
        int tokenPort = ServerProcess.freePort();

        AtomicInteger granted = new AtomicInteger();
        Map<String, JsonNode> kept = new HashMap<>();
        Path store = data.resolve("datastore.sqlite3");
        Map<String, String> unsettledAtKill;
        String svid;
        try (ServerProcess server = ServerProcess.start(data, dir, Optional.of(config), bundlePort, tokenPort)) {
            server.awaitHealthy(cli, Duration.ofSeconds(60));
            assertThat(cli.run("policy", "apply", "--data-dir", data.toString(), policy.toString()).exitCode()).isZero();
            String audience = "https://127.0.0.1:" + bundlePort + "/oauth2/token";
            svid = cli.run("jwt", "mint", "--data-dir", data.toString(), "--spiffe-id", HOLDER, "--audience", audience,
                    "--ttl", "10m").out().trim();
            HttpClient https = ServerProcess.httpsTrusting(ServerProcess.bundleRoots(cli, data));
            String keeperSvid = cli.run("jwt", "mint", "--data-dir", data.toString(), "--spiffe-id", KEEPER, "--audience", audience,
                    "--ttl", "10m").out().trim();
            for (int i = 0; i < KEPT; i++) {
                HttpResponse<String> issued = issue(https, tokenPort, keeperSvid, "30m");
                assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
                JsonNode body = json.readTree(issued.body());
                kept.put(body.path("lease_id").asText(), body.path("credential"));
            }
            for (JsonNode credential : kept.values()) {
                assertThat(reads(credential)).as("a kept credential before the kill").isTrue();
            }

            unsettledAtKill = loadThenKill(server, https, tokenPort, svid, cli, data, store, granted);
        }
        // The kill must land while a grant or a revocation is under way. Each lasts milliseconds, so a kill
        // can fall between two; then the scenario runs again on the same data (at most twice more).
        for (int attempt = 2; unsettledAtKill.isEmpty() && attempt <= 3; attempt++) {
            try (ServerProcess again = ServerProcess.start(data, dir, Optional.of(config), bundlePort, tokenPort)) {
                again.awaitHealthy(cli, Duration.ofSeconds(60));
                unsettledAtKill = loadThenKill(again, ServerProcess.httpsTrusting(ServerProcess.bundleRoots(cli, data)), tokenPort, svid, cli, data, store, granted);
            }
        }
        assertThat(granted.get()).as("credentials granted before the kill").isGreaterThanOrEqualTo(30);
        assertThat(unsettledAtKill).as("leases pending (grant under way) or revoking in the store at the kill").isNotEmpty();
        Set<String> rolesAtKill = pg.roles();

        try (ServerProcess restarted = ServerProcess.start(data, dir, Optional.of(config), bundlePort, tokenPort)) {
            restarted.awaitHealthy(cli, Duration.ofSeconds(60));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            Set<String> unsettled;
            do {
                unsettled = roles(leases(cli, data), "revoking", "pending");
                if (!unsettled.isEmpty()) {
                    Thread.sleep(200);
                }
            } while (!unsettled.isEmpty() && System.nanoTime() < deadline);
            assertThat(unsettled).as("leases still revoking or pending after restart").isEmpty();
            JsonNode leases = leases(cli, data);
            assertThat(leases.size()).as("leases recorded").isGreaterThanOrEqualTo(granted.get());
            Set<String> active = roles(leases, "active");
            System.out.printf("lease kill test: %d granted before the kill, %d roles and %d leases pending or revoking at the kill"
                    + " %s, %d leases, %d active after restart%n", granted.get(), rolesAtKill.size(), unsettledAtKill.size(),
                    unsettledAtKill.values(), leases.size(), active.size());
            Map<String, String> states = new HashMap<>();
            for (JsonNode lease : leases) {
                states.put(lease.path("id").asText(), lease.path("state").asText());
            }
            for (Map.Entry<String, JsonNode> lease : kept.entrySet()) {
                assertThat(states.get(lease.getKey())).as("state of kept lease %s after restart", lease.getKey()).isEqualTo("active");
                assertThat(active).contains(lease.getValue().path("username").asText());
                assertThat(reads(lease.getValue())).as("kept credential %s logs in after restart", lease.getKey()).isTrue();
            }
            for (String id : unsettledAtKill.keySet()) {
                assertThat(states.get(id)).as("lease %s, %s at the kill", id, unsettledAtKill.get(id)).isIn("active", "revoked");
            }
            assertThat(active).as("leases the server holds as active").hasSizeGreaterThanOrEqualTo(KEPT);
            assertThat(pg.roles()).as("roles in postgresql vs leases the server holds as active")
                    .isEqualTo(active);
        }
    }

    /** Grants and revokes under load, then kills the server (-9) once the store shows work under way; returns what was unsettled then. */
    private Map<String, String> loadThenKill(ServerProcess server, HttpClient https, int tokenPort, String svid, CliHarness cli, Path data,
                                             Path store, AtomicInteger granted) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService load = Executors.newFixedThreadPool(5);
        for (int i = 0; i < 4; i++) {
            load.execute(() -> {
                while (!stop.get()) {
                    try {
                        if (grant(https, tokenPort, svid) == 200) {
                            granted.incrementAndGet();
                        }
                    } catch (Exception e) {
                        return; // the server was killed
                    }
                }
            });
        }
        load.execute(() -> {
            while (!stop.get()) {
                cli.run("lease", "revoke", "--data-dir", data.toString(), "--holder", HOLDER);
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (granted.get() < 30 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        // Kill at a moment the store shows a grant or a revocation under way.
        long busy = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (unsettled(store).isEmpty() && System.nanoTime() < busy) {
            Thread.onSpinWait();
        }
        server.kill(); // kill -9 in the middle of grants and revocations
        Map<String, String> unsettledAtKill = unsettled(store);
        stop.set(true);
        load.shutdown();
        assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        return unsettledAtKill;
    }

    private int grant(HttpClient https, int tokenPort, String svid) throws Exception {
        return issue(https, tokenPort, svid, "10m").statusCode();
    }

    private static HttpResponse<String> issue(HttpClient https, int tokenPort, String svid, String ttl) throws Exception {
        return https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + tokenPort + "/v1/credentials"))
                .header("Authorization", "Bearer " + svid).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"broker\":\"postgresql\",\"resource\":\"reports\",\"ttl\":\"" + ttl + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A real login with an issued credential, reading what the reader group may read. */
    private static boolean reads(JsonNode credential) {
        try (Connection connection = DriverManager.getConnection(credential.path("url").asText(), credential.path("username").asText(),
                credential.path("password").asText());
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
            return rows.next() && rows.getInt(1) == 42;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    /**
     * The postgresql leases the server's own store holds as pending (recorded, grant under way) or
     * revoking (intent recorded, backend not yet done), by id, read straight from its SQLite file (a
     * reader beside the server's writer; after the kill, what the restarted server will find).
     */
    private static Map<String, String> unsettled(Path store) throws Exception {
        Map<String, String> leases = new HashMap<>();
        if (!Files.exists(store)) {
            return leases;
        }
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + store.toAbsolutePath());
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(
                     "SELECT id, state FROM leases WHERE broker = 'postgresql' AND state IN ('pending', 'revoking')")) {
            while (rows.next()) {
                leases.put(rows.getString(1), rows.getString(2));
            }
        }
        return leases;
    }

    private JsonNode leases(CliHarness cli, Path data) throws Exception {
        CliHarness.Result listed = cli.run("lease", "list", "--data-dir", data.toString(), "--broker", "postgresql", "--output", "json");
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        return json.readTree(listed.out()).path("leases");
    }

    private static Set<String> roles(JsonNode leases, String... states) {
        Set<String> wanted = Set.of(states);
        Set<String> roles = new HashSet<>();
        for (JsonNode lease : leases) {
            if (wanted.contains(lease.path("state").asText())) {
                roles.add(lease.path("details").path("role").asText(lease.path("id").asText()));
            }
        }
        return roles;
    }
}
