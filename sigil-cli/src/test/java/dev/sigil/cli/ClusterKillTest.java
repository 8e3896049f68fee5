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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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
 * directory and keys, granting short-lived PostgreSQL credentials to workloads that round-robin over them,
 * and two agents (each listing all three servers) whose workloads keep fetching their X.509-SVIDs; the
 * current job leader is killed with kill -9 in the middle of the load. Afterwards: another server leads,
 * every Workload API fetch through the kill returned the workload's own identity,
 * requests keep being served by the survivors (a client retries once on another server), every lease whose
 * TTL lapsed is revoked by the new leader — including those the killed server had granted — so the
 * PostgreSQL roles left are exactly the leases still active (none once all have expired: nothing lost,
 * nothing orphaned), and the one audit chain all three wrote verifies.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // three server start-ups and load on a 2-core machine
class ClusterKillTest {
    private static final String HOLDER = "spiffe://sigil.test/cluster/report-job";
    private static final String ISSUER = "https://sigil.test";
    private static final String WORKLOAD = "spiffe://sigil.test/cluster/workload-";
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

            // two agents, each listing all three servers (in different orders), each serving one workload
            Files.writeString(dir.resolve("bundle.pem"), cli.run("bundle", "show", "--data-dir", anyData.toString(), "--format", "pem").out());
            CountDownLatch stopAgents = new CountDownLatch(1);
            List<CompletableFuture<CliHarness.Result>> agents = new ArrayList<>();
            List<Path> sockets = new ArrayList<>();
            try (AdminClient admin = new AdminClient(servers.get(0).adminSocket())) {
                long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
                for (int a = 0; a < 2; a++) {
                    JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
                    admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD + a,
                            "parent_id", "spiffe://sigil.test/sigil/agent/join_token/" + token.path("id").asText(),
                            "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-cluster"));
                    Path socket = dir.resolve("agent" + a + "/public/api.sock");
                    sockets.add(socket);
                    Path agentConfig = agentConfig(a, List.of(servers.get(a), servers.get((a + 1) % 3), servers.get((a + 2) % 3)), socket);
                    CliHarness agentCli = new CliHarness(Map.of("SIGIL_JOIN_TOKEN", token.path("token").asText()), dir,
                            Main.defaultLauncher(), shutdown -> {
                                stopAgents.await();
                                shutdown.run();
                            });
                    agents.add(CompletableFuture.supplyAsync(() -> agentCli.run("agent", "run", "--config", agentConfig.toString())));
                }
            }
            CliHarness workload = new CliHarness(Map.of(), dir);
            for (int a = 0; a < 2; a++) {
                int agent = a;
                Eventually.within(Duration.ofSeconds(60), () -> assertThat(fetchX509(workload, sockets.get(agent))).contains(WORKLOAD + agent));
            }

            ServerProcess leader = leader(datastore, servers);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger served = new AtomicInteger();
            AtomicInteger retried = new AtomicInteger();
            Map<String, Integer> failures = new ConcurrentHashMap<>();
            Map<String, Integer> firstAttempts = new ConcurrentHashMap<>();
            Map<String, Integer> fetchFailures = new ConcurrentHashMap<>();
            AtomicInteger fetched = new AtomicInteger();
            ExecutorService load = Executors.newFixedThreadPool(4);
            load.execute(() -> { // both workloads keep fetching their X.509-SVIDs through the kill
                while (!stop.get()) {
                    for (int a = 0; a < 2; a++) {
                        String out = fetchX509(workload, sockets.get(a));
                        if (out.contains(WORKLOAD + a)) {
                            fetched.incrementAndGet();
                        } else {
                            fetchFailures.merge("workload " + a + ": " + out.lines().findFirst().orElse("(nothing)"), 1, Integer::sum);
                        }
                    }
                }
            });
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
            assertThat(fetchFailures).as("workload api fetches that did not return the workload's identity").isEmpty();
            assertThat(fetched.get()).as("workload api fetches").isGreaterThan(10);
            for (int a = 0; a < 2; a++) { // and after the kill, each agent still serves its workload's identity
                assertThat(fetchX509(workload, sockets.get(a))).contains(WORKLOAD + a);
            }
            stopAgents.countDown();
            for (CompletableFuture<CliHarness.Result> agent : agents) {
                CliHarness.Result stopped = agent.get(30, TimeUnit.SECONDS);
                assertThat(stopped.exitCode()).as(stopped.err()).isZero();
            }

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
                    + "leadership taken over within %d ms, %d leases all revoked, %d workload api fetches all answered%n", served.get(),
                    servedBeforeKill, retried.get(), takeover.toMillis(), leases.size(), fetched.get());
        } finally {
            for (ServerProcess server : servers) {
                server.close();
            }
        }
    }

    /** What {@code sigil agent api fetch x509} prints for the calling process (its uid's workload), or the error. */
    private static String fetchX509(CliHarness workload, Path socket) {
        CliHarness.Result result = workload.run("agent", "api", "fetch", "x509", "--socket", socket.toString());
        return result.exitCode() == 0 ? result.out() : "exit " + result.exitCode() + ": " + result.err();
    }

    private Path agentConfig(int index, List<ServerProcess> servers, Path socket) throws Exception {
        Path data = Files.createDirectories(dir.resolve("agent" + index + "-data"));
        Path file = dir.resolve("agent" + index + ".yaml");
        StringBuilder addresses = new StringBuilder();
        for (ServerProcess server : servers) {
            addresses.append("  - 127.0.0.1:").append(server.agentApiPort).append('\n');
        }
        Files.writeString(file, """
                data_dir: %s
                trust_domain: sigil.test
                server_address:
                %strust_bundle_path: %s
                node_attestor:
                  type: join_token
                workload_api:
                  socket_path: %s
                sync_interval: 1s
                log_level: warn
                """.formatted(data, addresses, dir.resolve("bundle.pem"), socket));
        return file;
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
