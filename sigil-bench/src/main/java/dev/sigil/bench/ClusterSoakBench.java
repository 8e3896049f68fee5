package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.PostgresServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A soak of two {@code bin/sigil server run} processes on one PostgreSQL datastore under mixed load —
 * token exchanges and short-lived PostgreSQL credentials — with a kill -9 of one server every
 * {@code --kill-every} seconds (alternating; each killed server is started again at once, as systemd
 * would). Clients send each request to one server and retry once on the other. At the end, once every
 * lease's TTL has lapsed, checks that nothing was lost: every lease revoked, no role left in the broker's
 * database, the audit chain intact. Reports requests served, errors clients saw after their retry, and
 * per kill the time until the killed server was healthy again and until a job leader held the lease.
 *
 * <pre>
 * java -cp sigil-bench/target/sigil-bench.jar dev.sigil.bench.ClusterSoakBench [--minutes 10] [--kill-every 120] [--threads 4]
 * </pre>
 * Run from the repository root (it starts {@code bin/sigil}). Exits non-zero when anything was lost.
 */
public final class ClusterSoakBench {
    private static final String HOLDER = "spiffe://example.org/soak/job";
    private static final String ISSUER = "https://sigil.soak";
    private static final String POLICY = """
            rules:
              - name: soak-exchanges
                effect: allow
                subject:
                  spiffe_id: spiffe://example.org/soak/*
                actions: [token:exchange]
                resources: [https://api]
              - name: soak-credentials
                effect: allow
                subject:
                  spiffe_id: spiffe://example.org/soak/*
                actions: [credential:issue]
                resources: [postgresql:reports]
            """;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterSoakBench() {}

    /** One server process and the ports it keeps across restarts. */
    private static final class Server {
        final Path data;
        final int tokenPort;
        final int agentPort;
        final int bundlePort;
        volatile Process process;

        Server(Path data) throws IOException {
            this.data = data;
            this.tokenPort = ServerProcesses.freePort();
            this.agentPort = ServerProcesses.freePort();
            this.bundlePort = ServerProcesses.freePort();
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--minutes", "--kill-every", "--threads"));
        int minutes = options.positiveInt("--minutes", 10);
        int killEvery = options.positiveInt("--kill-every", 120);
        int threads = options.positiveInt("--threads", 4);
        Path sigil = ServerProcesses.sigil();
        Path dir = Files.createTempDirectory("sigil-soak");
        try (PostgresServer postgres = PostgresServer.start()) {
            BrokerDatabase broker = BrokerDatabase.create();
            PostgresServer.Database datastore = postgres.createDatabase();
            Path config = config(dir, datastore, broker);
            List<Server> servers = List.of(new Server(dir.resolve("server0")), new Server(dir.resolve("server1")));
            for (Server server : servers) {
                start(sigil, dir, config, server);
                awaitHealthy(sigil, server, Duration.ofSeconds(120));
                if (server == servers.get(0)) {
                    ServerProcesses.cli(sigil, "policy", "apply", "--data-dir", server.data.toString(), dir.resolve("policy.yaml").toString());
                }
            }
            Thread.sleep(6_000); // both servers' bundles hold both authorities
            String svid = ServerProcesses.cli(sigil, "jwt", "mint", "--data-dir", servers.get(0).data.toString(), "--spiffe-id", HOLDER, "--audience",
                    ISSUER + "/oauth2/token", "--ttl", "2h").strip();
            HttpClient https = https(ServerProcesses.cli(sigil, "bundle", "show", "--data-dir", servers.get(0).data.toString(), "--format", "pem"));

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong exchanges = new AtomicLong();
            AtomicLong credentials = new AtomicLong();
            AtomicLong retried = new AtomicLong();
            Map<String, Long> errors = new ConcurrentHashMap<>();
            ExecutorService load = Executors.newFixedThreadPool(threads);
            for (int t = 0; t < threads; t++) {
                int id = t;
                load.execute(() -> {
                    for (long n = id; !stop.get(); n++) {
                        boolean credential = n % 4 == 0; // a quarter credentials, the rest token exchanges
                        Server first = servers.get((int) (n % 2));
                        Server second = servers.get((int) ((n + 1) % 2));
                        int status = send(https, first, svid, credential);
                        if (status != 200) {
                            retried.incrementAndGet();
                            status = send(https, second, svid, credential);
                        }
                        if (status == 200) {
                            (credential ? credentials : exchanges).incrementAndGet();
                        } else {
                            errors.merge((credential ? "credential " : "exchange ") + status, 1L, Long::sum);
                        }
                    }
                });
            }

            System.out.printf("ClusterSoakBench: %d min, kill -9 every %d s, %d client threads, 2 servers, %d cores%n", minutes, killEvery,
                    threads, Runtime.getRuntime().availableProcessors());
            long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
            int kills = 0;
            long started = System.nanoTime();
            // kills at fixed times (every --kill-every seconds from the start), whatever a restart took
            while (started + TimeUnit.SECONDS.toNanos((long) killEvery * (kills + 1)) < end) {
                long at = started + TimeUnit.SECONDS.toNanos((long) killEvery * (kills + 1));
                Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(at - System.nanoTime())));
                Server victim = servers.get(kills % 2);
                long victimPid = victim.process.pid();
                boolean wasLeader = victimPid == leaderPid(datastore);
                victim.process.destroyForcibly();
                victim.process.waitFor();
                long killed = System.nanoTime();
                // the survivor leads (at once when the victim was a follower, after the lease lapses when it led)
                long leader;
                while (((leader = leaderPid(datastore)) == 0 || leader == victimPid)
                        && System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(30)) {
                    Thread.sleep(20);
                }
                long led = System.nanoTime();
                start(sigil, dir, config, victim); // as systemd's Restart=always would
                awaitHealthy(sigil, victim, Duration.ofSeconds(120));
                long healthy = System.nanoTime();
                kills++;
                System.out.printf("kill %d: server%d (%s) killed; the other leads after %.1f s; restarted and healthy after %.1f s;"
                        + " served so far %,d%n", kills, servers.indexOf(victim), wasLeader ? "job leader" : "follower", (led - killed) / 1e9,
                        (healthy - killed) / 1e9, exchanges.get() + credentials.get());
            }
            long remaining = end - System.nanoTime();
            if (remaining > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(remaining));
            }
            stop.set(true);
            load.shutdown();
            load.awaitTermination(60, TimeUnit.SECONDS);

            // every lease had a 5 s ttl: give the leader time to revoke what lapsed, then count what is left (in the datastore)
            long lost = -1;
            long leases = 0;
            Set<String> roles = Set.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                try (Connection connection = DriverManager.getConnection(datastore.jdbcUrl(), datastore.user(), datastore.password());
                     Statement statement = connection.createStatement();
                     ResultSet row = statement.executeQuery("SELECT COUNT(*), COUNT(*) FILTER (WHERE state <> 'revoked') FROM leases"
                             + " WHERE broker = 'postgresql'")) {
                    row.next();
                    leases = row.getLong(1);
                    lost = row.getLong(2);
                }
                roles = broker.roles();
                if (lost == 0 && roles.isEmpty()) {
                    break;
                }
                Thread.sleep(1_000);
            }
            JsonNode verified = JSON.readTree(ServerProcesses.cli(sigil, "audit", "verify", "--data-dir", servers.get(0).data.toString(), "--output", "json"));
            System.out.printf("served: %,d token exchanges, %,d credentials; %,d requests retried on the other server; errors after the retry: %s%n",
                    exchanges.get(), credentials.get(), retried.get(), errors.isEmpty() ? "none" : errors);
            System.out.printf("at the end: %,d leases, %d not revoked, %d roles left in the broker database, audit chain %s%n", leases, lost,
                    roles.size(), verified.path("intact").asBoolean() ? "intact" : "BROKEN: " + verified);
            for (Server server : servers) {
                server.process.destroy();
                server.process.waitFor(10, TimeUnit.SECONDS);
            }
            if (lost != 0 || !roles.isEmpty() || !verified.path("intact").asBoolean()) {
                System.exit(1);
            }
        }
    }

    private static Path config(Path dir, PostgresServer.Database datastore, BrokerDatabase broker) throws IOException {
        Files.writeString(dir.resolve("policy.yaml"), POLICY);
        Path config = ServerProcesses.writeConfig(dir, datastore, ISSUER);
        Files.writeString(config, broker.brokersYaml(dir), java.nio.file.StandardOpenOption.APPEND);
        return config;
    }

    private static int send(HttpClient https, Server server, String svid, boolean credential) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + server.tokenPort
                    + (credential ? "/v1/credentials" : "/oauth2/token"))).timeout(Duration.ofSeconds(15));
            if (credential) {
                request.header("Authorization", "Bearer " + svid).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"broker\":\"postgresql\",\"resource\":\"reports\",\"ttl\":\"5s\"}"));
            } else {
                request.header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
                        "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(svid) + "&audience=" + enc("https://api")));
            }
            return https.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1; // refused or reset: the server is down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -2;
        }
    }

    private static long leaderPid(PostgresServer.Database datastore) {
        try (Connection connection = DriverManager.getConnection(datastore.jdbcUrl(), datastore.user(), datastore.password());
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("SELECT holder, expires_at FROM job_leader WHERE name = 'jobs'")) {
            if (!row.next() || row.getLong(2) < System.currentTimeMillis()) {
                return 0;
            }
            return Long.parseLong(row.getString(1).split("/")[1]);
        } catch (Exception e) {
            return 0;
        }
    }

    private static void start(Path sigil, Path dir, Path config, Server server) throws IOException {
        ProcessBuilder builder = ServerProcesses.command(sigil, "server", "run", "--config", config.toString(), "--data-dir",
                server.data.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(server.data.getFileName() + ".log").toFile()));
        builder.environment().putAll(Map.of("SIGIL_BUNDLE_PORT", Integer.toString(server.bundlePort), "SIGIL_AGENT_API_PORT",
                Integer.toString(server.agentPort), "SIGIL_TOKEN_PORT", Integer.toString(server.tokenPort)));
        server.process = builder.start();
    }

    private static void awaitHealthy(Path sigil, Server server, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.process.isAlive()) {
                throw new IllegalStateException("server " + server.data + " exited; see its log beside it");
            }
            Process check = ServerProcesses.command(sigil, "healthcheck", "--data-dir", server.data.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (check.waitFor() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("server " + server.data + " did not become healthy within " + limit);
    }

    private static HttpClient https(String pem) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        int i = 0;
        for (var certificate : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            store.setCertificateEntry("root" + i++, (X509Certificate) certificate);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
