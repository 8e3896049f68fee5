package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real {@code sigil server run} processes on one real PostgreSQL datastore, each with its own data
 * directory and keys, granting short-lived PostgreSQL credentials to workloads that round-robin over them;
 * the current job leader is killed with kill -9 in the middle of the load. Afterwards: another server leads,
 * requests keep being served by the survivors (a client retries once on another server), every lease whose
 * TTL lapsed is revoked by the new leader — including those the killed server had granted — so the
 * PostgreSQL roles left are exactly the leases still active (none once all have expired: nothing lost,
 * nothing orphaned), and the one audit chain all three wrote verifies.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // three server start-ups and load on a 2-core machine
class ClusterKillTest {
    private static final String HOLDER = "spiffe://sigil.test/cluster/report-job";
    private static final String ISSUER = "https://sigil.test";
    private static final String POLICY = """
            rules:
              - name: cluster-jobs-read-reports
                effect: allow
                subject:
                  spiffe_id: spiffe://sigil.test/cluster/*
                actions: [credential:issue]
                resources: [postgresql:reports]
            """;
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void killingTheJobLeaderUnderLoadLosesNothingAndTheSurvivorsRevokeWhatLapsed() throws Exception {
        BrokerDatabase broker = BrokerDatabase.create();
        PostgresServer.Database datastore = PostgresServer.shared().createDatabase();
        Path key = dir.resolve("audit-hmac.key");
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        Files.write(key, random);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, """
                trust_domain: sigil.test
                datastore:
                  type: postgresql
                  url: "%s"
                  user: %s
                  password: "%s"
                jwt:
                  issuer: %s
                ca:
                  join_delay: 2s
                audit:
                  hmac_key_file: %s
                """.formatted(datastore.jdbcUrl(), datastore.user(), datastore.password(), ISSUER, key) + broker.brokersYaml(dir));
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        CliHarness cli = new CliHarness(Map.of(), dir);

        List<ServerProcess> servers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                ServerProcess server = ServerProcess.start(dir.resolve("server" + i), dir, Optional.of(config), ServerProcess.freePort(),
                        ServerProcess.freePort());
                servers.add(server);
                server.awaitHealthy(cli, Duration.ofSeconds(90));
                if (i == 0) { // the others load it at start (a running server re-reads policy every 5 s)
                    assertThat(cli.run("policy", "apply", "--data-dir", server.dataDir.toString(), policy.toString()).exitCode()).isZero();
                }
            }
            Path anyData = servers.get(0).dataDir;
            // every server's authorities in every server's bundle (each re-reads the journal every 5 s)
            Eventually.within(Duration.ofSeconds(20), () -> {
                for (ServerProcess server : servers) {
                    assertThat(ServerProcess.bundleRoots(cli, server.dataDir)).hasSize(3);
                }
            });
            HttpClient https = ServerProcess.httpsTrusting(ServerProcess.bundleRoots(cli, anyData));
            String svid = cli.run("jwt", "mint", "--data-dir", anyData.toString(), "--spiffe-id", HOLDER, "--audience",
                    ISSUER + "/oauth2/token", "--ttl", "10m").out().trim();

            ServerProcess leader = leader(datastore, servers);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger served = new AtomicInteger();
            AtomicInteger retried = new AtomicInteger();
            Map<String, Integer> failures = new ConcurrentHashMap<>();
            Map<String, Integer> firstAttempts = new ConcurrentHashMap<>();
            ExecutorService load = Executors.newFixedThreadPool(3);
            for (int t = 0; t < 3; t++) {
                int offset = t;
                load.execute(() -> {
                    for (int n = offset; !stop.get(); n++) {
                        // a client tries one server, and on a connection failure or 503 retries once on the next
                        ServerProcess first = servers.get(n % 3);
                        ServerProcess second = servers.get((n + 1) % 3);
                        int status = issue(https, first, svid);
                        if (status != 200) {
                            retried.incrementAndGet();
                            firstAttempts.merge(status + (first == leader ? " (killed server)" : ""), 1, Integer::sum);
                            status = issue(https, second, svid);
                        }
                        if (status == 200) {
                            served.incrementAndGet();
                        } else {
                            failures.merge(Integer.toString(status), 1, Integer::sum);
                        }
                    }
                });
            }
            Eventually.within(Duration.ofSeconds(60), () -> assertThat(served.get()).isGreaterThanOrEqualTo(20));
            int servedBeforeKill = served.get();
            leader.kill(); // kill -9 of the job leader, while grants go on against all three
            long killedAt = System.nanoTime();
            List<ServerProcess> survivors = servers.stream().filter(s -> s != leader).toList();
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(leader(datastore, survivors)).isNotNull());
            Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
            Eventually.within(Duration.ofSeconds(60), () -> assertThat(served.get()).isGreaterThanOrEqualTo(servedBeforeKill + 20));
            stop.set(true);
            load.shutdown();
            assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            assertThat(failures).as("requests no server answered, even after the one retry (first attempts: %s)", firstAttempts).isEmpty();

            // every lease had a 2 s ttl: once they lapse, the new leader revokes them all, the dead server's included
            Path survivorData = survivors.get(0).dataDir;
            Eventually.within(Duration.ofSeconds(60), () -> {
                JsonNode leases = leases(cli, survivorData);
                Set<String> unsettled = new HashSet<>();
                for (JsonNode lease : leases) {
                    if (!lease.path("state").asText().equals("revoked")) {
                        unsettled.add(lease.path("id").asText() + "=" + lease.path("state").asText());
                    }
                }
                assertThat(unsettled).as("leases not yet revoked").isEmpty();
                assertThat(broker.roles()).as("roles left in the broker's database").isEmpty();
            });
            JsonNode leases = leases(cli, survivorData);
            assertThat(leases.size()).as("leases recorded").isGreaterThanOrEqualTo(served.get());

            CliHarness.Result verified = cli.run("audit", "verify", "--data-dir", survivorData.toString(), "--output", "json");
            assertThat(verified.exitCode()).as(verified.out() + verified.err()).isZero();
            assertThat(json.readTree(verified.out()).path("intact").asBoolean()).as(verified.out()).isTrue();
            System.out.printf("cluster kill test: %d credentials served (%d before the kill), %d retried on another server, "
                    + "leadership taken over within %d ms, %d leases all revoked%n", served.get(), servedBeforeKill, retried.get(),
                    takeover.toMillis(), leases.size());
        } finally {
            for (ServerProcess server : servers) {
                server.close();
            }
        }
    }

    private static int issue(HttpClient https, ServerProcess server, String svid) {
        try {
            return https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.tokenPort + "/v1/credentials"))
                    .timeout(Duration.ofSeconds(15))
                    .header("Authorization", "Bearer " + svid).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"broker\":\"postgresql\",\"resource\":\"reports\",\"ttl\":\"2s\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (java.io.IOException e) {
            return -1; // connection refused or reset: the server is gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -2;
        }
    }

    /** The server process that holds the job leadership now (by the pid in its holder name), or null. */
    private static ServerProcess leader(PostgresServer.Database datastore, List<ServerProcess> among) throws Exception {
        try (Connection connection = DriverManager.getConnection(datastore.jdbcUrl(), datastore.user(), datastore.password());
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("SELECT holder, expires_at FROM job_leader WHERE name = 'jobs'")) {
            if (!row.next() || row.getLong(2) < System.currentTimeMillis()) {
                return null;
            }
            String pid = row.getString(1).split("/")[1];
            return among.stream().filter(s -> Long.toString(s.pid()).equals(pid)).findFirst().orElse(null);
        }
    }

    private JsonNode leases(CliHarness cli, Path data) throws Exception {
        CliHarness.Result listed = cli.run("lease", "list", "--data-dir", data.toString(), "--broker", "postgresql", "--limit", "10000",
                "--output", "json");
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        return json.readTree(listed.out()).path("leases");
    }
}
