package dev.sigil.bench;

import dev.sigil.bench.ServerProcesses.Server;
import dev.sigil.testkit.PostgresServer;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Token exchange throughput on one vs two {@code bin/sigil server run} processes sharing one PostgreSQL
 * datastore, as users run them: real server processes (the launcher's server profile), a real
 * PostgreSQL 15 started for the run (testkit), {@code wrk} as the closed-loop client, one wrk per
 * server. Each exchange commits its token row, status row, lease row and audit record in PostgreSQL.
 * Reports, per configuration, exchanges/s (sum over servers), latency of each wrk, and CPU per exchange
 * of the servers and of PostgreSQL (from /proc), so it shows what limits a second server on this machine.
 *
 * <pre>
 * java -cp sigil-bench/target/sigil-bench.jar dev.sigil.bench.ClusterExchangeBench [--seconds 15] [--warmup-seconds 10]
 *     [--connections 16] [--servers 1,2]
 * </pre>
 * Run from the repository root (it starts {@code bin/sigil}).
 */
public final class ClusterExchangeBench {
    private static final String SUBJECT = "spiffe://example.org/web";
    private static final String AUDIENCE = "https://api";
    private static final String ISSUER = "https://sigil.bench";
    private static final String POLICY = """
            rules:
              - name: web-to-api
                effect: allow
                subject:
                  spiffe_id: %s
                actions: [token:exchange]
                resources: [%s]
            """.formatted(SUBJECT, AUDIENCE);

    private ClusterExchangeBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--seconds", "--warmup-seconds", "--connections", "--servers"));
        int seconds = options.positiveInt("--seconds", 15);
        int warmup = options.positiveInt("--warmup-seconds", 10);
        int connections = options.positiveInt("--connections", 16);
        List<Integer> counts = java.util.Arrays.stream(options.string("--servers", "1,2").split(",")).map(Integer::parseInt).toList();
        if (!WrkLoad.available()) {
            throw new IllegalStateException("wrk is needed (apt-get install wrk)");
        }
        Path sigil = ServerProcesses.sigil();
        Path work = Files.createTempDirectory("sigil-cluster-bench");
        try (PostgresServer postgres = PostgresServer.start()) {
            System.out.printf("ClusterExchangeBench: %d s per run after %d s warm-up, %d wrk connections per server, %d cores%n",
                    seconds, warmup, connections, Runtime.getRuntime().availableProcessors());
            System.out.printf("%-8s %12s %12s %12s %14s %14s%n", "servers", "exchanges/s", "p50 ms", "p99 ms", "server us/exch",
                    "postgres us/exch");
            for (int count : counts) {
                run(sigil, work.resolve("run" + count), postgres, count, seconds, warmup, connections);
            }
        }
    }

    private static void run(Path sigil, Path dir, PostgresServer postgres, int count, int seconds, int warmup, int connections)
            throws Exception {
        PostgresServer.Database database = postgres.createDatabase();
        long postmaster = ServerProcesses.postmasterOf(database); // only this run's PostgreSQL counts
        Path config = ServerProcesses.writeConfig(dir, database, ISSUER);
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        List<Server> servers = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                Server server = ServerProcesses.start(sigil, dir, config, i);
                servers.add(server);
                ServerProcesses.awaitHealthy(sigil, server);
                if (i == 0) {
                    ServerProcesses.cli(sigil, "policy", "apply", "--data-dir", server.data().toString(), policy.toString());
                }
            }
            String[] bodies = new String[20]; // each minted by a CLI process; wrk cycles through them
            for (int i = 0; i < bodies.length; i++) {
                String token = ServerProcesses.cli(sigil, "jwt", "mint", "--data-dir", servers.get(0).data().toString(),
                        "--spiffe-id", SUBJECT, "--audience", ISSUER + "/oauth2/token", "--ttl", "1h").strip();
                bodies[i] = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                        + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt")
                        + "&subject_token=" + enc(token) + "&audience=" + enc(AUDIENCE);
            }
            Thread.sleep(6_000); // every server re-reads policy and authorities within 5 s
            load(servers, bodies, connections, warmup, dir); // warm-up, not reported
            long serverCpu = servers.stream().mapToLong(s -> ServerProcesses.cpuMicros(s.process().pid())).sum();
            long postgresCpu = ServerProcesses.postgresTreeCpuMicros(postmaster);
            List<WrkLoad.Result> results = load(servers, bodies, connections, seconds, dir);
            long serverUsed = servers.stream().mapToLong(s -> ServerProcesses.cpuMicros(s.process().pid())).sum() - serverCpu;
            long postgresUsed = ServerProcesses.postgresTreeCpuMicros(postmaster) - postgresCpu;
            long requests = results.stream().mapToLong(WrkLoad.Result::requests).sum();
            long failed = results.stream().mapToLong(r -> r.non2xx() + r.socketErrors()).sum();
            if (failed > 0) {
                throw new IllegalStateException(failed + " exchanges failed with " + count + " servers");
            }
            double perSecond = results.stream().mapToDouble(WrkLoad.Result::perSecond).sum();
            System.out.printf("%-8d %,12.0f %12s %12s %14.0f %14.0f%n", count, perSecond,
                    join(results.stream().map(r -> String.format("%.1f", r.p50Micros() / 1000)).toList()),
                    join(results.stream().map(r -> String.format("%.1f", r.p99Micros() / 1000)).toList()),
                    (double) serverUsed / requests, (double) postgresUsed / requests);
        } finally {
            ServerProcesses.stop(servers);
        }
    }

    private static List<WrkLoad.Result> load(List<Server> servers, String[] bodies, int connections, int seconds, Path dir)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(servers.size());
        try {
            List<Future<WrkLoad.Result>> runs = new ArrayList<>();
            for (int i = 0; i < servers.size(); i++) {
                Server server = servers.get(i);
                Path wrkDir = Files.createDirectories(dir.resolve("wrk" + i));
                runs.add(pool.submit(() -> WrkLoad.run(URI.create("https://127.0.0.1:" + server.tokenPort()), "/oauth2/token", bodies,
                        connections, seconds, wrkDir)));
            }
            List<WrkLoad.Result> results = new ArrayList<>();
            for (Future<WrkLoad.Result> run : runs) {
                results.add(run.get());
            }
            return results;
        } finally {
            pool.shutdown();
        }
    }

    private static String join(List<String> values) {
        return String.join("/", values);
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
