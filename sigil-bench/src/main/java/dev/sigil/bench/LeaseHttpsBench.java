package dev.sigil.bench;

import dev.sigil.cli.AdminClient;
import dev.sigil.testkit.PostgresServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * PostgreSQL credentials as workloads ask for them: the server is its own process ({@code java -jar
 * sigil.jar server run --config FILE}: SQLite datastore with its durable defaults, audit on, the
 * {@code postgresql} broker on a loopback PostgreSQL the benchmark starts), and {@code --clients}
 * concurrent HTTPS clients (one keep-alive HTTP/1.1 connection each) request {@code --leases}
 * credentials with {@code POST /v1/credentials}, authenticated by a JWT-SVID bearer token. Afterwards
 * every lease is revoked with {@code POST /v1/leases/revoke {"broker": "postgresql"}} on the admin socket and timed
 * until none is left revoking. {@code --jar} picks the server build, so two builds can be compared in
 * one run; {@code --pg-durable 1} runs PostgreSQL with fsync and synchronous commit on. Per round it
 * prints the CPU per lease of the server process, of PostgreSQL (postmaster and backends) and of this
 * JVM (the HTTPS clients). The environment variable {@code SIGIL_JAVA_OPTS} (space-separated) is
 * passed to the server's JVM, as the launcher does, e.g. for a flight recording.
 *
 * <p>Usage: {@code LeaseHttpsBench [--leases 2000] [--clients 1,16] [--warmup 3000] [--pg-durable 0|1]
 * [--jar sigil-cli/target/sigil.jar]}
 */
public final class LeaseHttpsBench {
    private static final String ISSUER = "https://sigil.bench";
    private static final String HOLDER = "spiffe://example.org/billing/report-job";

    private LeaseHttpsBench() {
    }

    public static void main(String[] args) throws Exception {
        // loopback benchmark with a trust-all client (below): the certificate names no host to verify
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        Options options = Options.parse(args, Set.of("--leases", "--clients", "--warmup", "--pg-durable", "--jar"));
        int count = options.positiveInt("--leases", 2_000);
        int warmup = options.positiveInt("--warmup", 3_000);
        int[] clients = Arrays.stream(options.string("--clients", "1,16").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean pgDurable = options.string("--pg-durable", "0").equals("1");
        Path jar = Path.of(options.string("--jar", "sigil-cli/target/sigil.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no server jar at " + jar + "; build it with ./mvnw -pl sigil-cli -am package -DskipTests");
        }
        try (PostgresServer postgres = pgDurable ? PostgresServer.startDurable() : PostgresServer.start();
             TempDirectory root = TempDirectory.create("sigil-lease-https")) {
            PostgresServer.Database database = postgres.createDatabase();
            PostgresBrokerBench.setUp(database);
            Path passwordFile = root.resolve("pg.pass");
            Files.writeString(passwordFile, PostgresBrokerBench.ADMIN_PASSWORD);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            int port = ServerProcesses.freePort();
            Path config = root.resolve("sigil.yaml");
            Files.writeString(config, """
                    data_dir: %s
                    trust_domain: example.org
                    log_level: warn
                    jwt:
                      issuer: %s
                    bundle_endpoint:
                      enabled: false
                    agent_api:
                      port: 0
                    token_endpoint:
                      port: %d
                    brokers:
                      postgresql:
                        url: "%s"
                        admin_user: sigil_broker
                        admin_password_file: %s
                        resources:
                          reports:
                            member_of: [reports_read]
                    """.formatted(root.resolve("data"), ISSUER, port, database.jdbcUrl(), passwordFile));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED"));
            String javaOptions = System.getenv().getOrDefault("SIGIL_JAVA_OPTS", "").strip();
            if (!javaOptions.isEmpty()) {
                command.addAll(List.of(javaOptions.split("\\s+")));
            }
            command.addAll(List.of("-jar", jar.toString(), "server", "run", "--config", config.toString()));
            Process server = new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(root.resolve("server.log").toFile()).start();
            boolean met = true;
            try {
                Path socket = root.resolve("data").resolve("admin").resolve("admin.sock");
                AdminHealthProbe probe = new AdminHealthProbe(socket, Duration.ofSeconds(5));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (probe.status() != 200) {
                    if (!server.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException("the server did not become healthy; see " + root.resolve("server.log"));
                    }
                    Thread.sleep(20);
                }
                try (AdminClient admin = new AdminClient(socket)) {
                    AdminClient.Answer applied = admin.put("/v1/policy", Map.of("yaml", """
                            rules:
                              - name: bench
                                effect: allow
                                subject: {spiffe_id: %s}
                                actions: [credential:issue]
                                resources: [postgresql:reports]
                            """.formatted(HOLDER)));
                    require(applied.status() == 200, "policy apply: " + applied.body());
                    AdminClient.Answer svid = admin.post("/v1/svids/jwt", Map.of("spiffe_id", HOLDER,
                            "audience", List.of(ISSUER + "/oauth2/token"), "ttl", 3600));
                    require(svid.status() == 200, "jwt-svid: " + svid.body());
                    String bearer = svid.json().path("token").asText();
                    HttpRequest request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/credentials"))
                            .header("Content-Type", "application/json").header("Authorization", "Bearer " + bearer)
                            .POST(HttpRequest.BodyPublishers.ofString("{\"broker\":\"postgresql\",\"resource\":\"reports\"}")).build();
                    int maxClients = Arrays.stream(clients).max().orElse(1);
                    issue(request, warmup, maxClients, new long[warmup]);
                    revokeAll(admin);
                    System.out.printf("POST /v1/credentials over HTTPS to a `sigil server run` process (%s), postgresql broker, SQLite "
                            + "durable datastore, loopback PostgreSQL (fsync and synchronous_commit %s), %,d leases per round, "
                            + "load average %.1f%n", jar, pgDurable ? "on" : "off", count, LeaseRevokeBench.loadAverage());
                    long postmaster = ServerProcesses.postmasterOf(database);
                    for (int n : clients) {
                        long[] nanos = new long[count];
                        long serverCpu0 = ServerProcesses.cpuMicros(server.pid());
                        long pgCpu0 = ServerProcesses.postgresTreeCpuMicros(postmaster);
                        long clientCpu0 = LeaseRevokeBench.processCpuMicros();
                        double seconds = issue(request, count, n, nanos);
                        double serverCpu = (ServerProcesses.cpuMicros(server.pid()) - serverCpu0) / 1000.0 / count;
                        double pgCpu = (ServerProcesses.postgresTreeCpuMicros(postmaster) - pgCpu0) / 1000.0 / count;
                        double clientCpu = (LeaseRevokeBench.processCpuMicros() - clientCpu0) / 1000.0 / count;
                        Arrays.sort(nanos);
                        double revoke = revokeAll(admin);
                        boolean issueMet = n < maxClients || count / seconds >= LeaseRevokeBench.ISSUE_TARGET;
                        met &= issueMet;
                        System.out.printf("  %2d client(s): %.2f s (%,.0f/s), p50 %.2f ms, p99 %.2f ms, CPU per lease: server %.2f ms, "
                                + "PostgreSQL %.2f ms, clients %.2f ms%s | revoke all %.2f s%n", n, seconds,
                                count / seconds, nanos[count / 2] / 1e6, nanos[count * 99 / 100] / 1e6, serverCpu, pgCpu, clientCpu,
                                n == maxClients ? " (target >= " + LeaseRevokeBench.ISSUE_TARGET + "/s: " + (issueMet ? "met" : "NOT met") + ")"
                                        : "", revoke);
                    }
                }
            } finally {
                server.destroy();
                server.waitFor(15, TimeUnit.SECONDS);
            }
            if (!met) {
                System.exit(1);
            }
        }
    }

    /** Sends {@code count} requests from {@code clients} threads, one HTTP client (connection) each; returns the seconds taken. */
    private static double issue(HttpRequest request, int count, int clients, long[] nanos) throws Exception {
        SSLContext tls = trustAll();
        AtomicInteger next = new AtomicInteger();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        List<HttpClient> https = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            https.add(HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build());
        }
        long start = System.nanoTime();
        for (int t = 0; t < clients; t++) {
            HttpClient client = https.get(t);
            threads.add(Thread.ofPlatform().name("client-" + t).start(() -> {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() != 200) {
                            failures.add(response.statusCode() + " " + response.body());
                            return;
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                        return;
                    }
                    nanos[i] = System.nanoTime() - t0;
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        https.forEach(HttpClient::close);
        require(failures.isEmpty(), failures.size() + " request(s) failed, first: " + (failures.isEmpty() ? "" : failures.getFirst()));
        return seconds;
    }

    /**
     * Revokes every postgresql lease through the admin API (one request; what it leaves to the worker is
     * revoked in the background); returns the seconds until none is left revoking, and fails after 120 s.
     */
    private static double revokeAll(AdminClient admin) throws Exception {
        long start = System.nanoTime();
        AdminClient.Answer revoked = admin.post("/v1/leases/revoke", Map.of("broker", "postgresql"));
        require(revoked.status() == 200, "revoke: " + revoked.status() + " " + revoked.body());
        while (true) {
            AdminClient.Answer left = admin.get("/v1/leases?broker=postgresql&state=revoking&limit=1");
            require(left.status() == 200, "list: " + left.body());
            if (left.json().path("leases").isEmpty()) {
                return (System.nanoTime() - start) / 1e9;
            }
            require(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(120), "leases still revoking 120 s after the request: "
                    + revoked.body());
            Thread.sleep(20);
        }
    }

    /** The bench measures throughput on loopback, not trust: it accepts the server's certificate unchecked. */
    private static SSLContext trustAll() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
