package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.server.AgentCredentials;
import dev.sigil.agent.server.AgentServerClient;
import dev.sigil.agent.server.AgentSvid;
import dev.sigil.agent.server.NodeKeys;
import dev.sigil.agent.server.RegistrationEntry;
import dev.sigil.agent.server.SpiffeServerTrust;
import dev.sigil.agent.server.SyncPage;
import dev.sigil.bench.ServerProcesses.Server;
import dev.sigil.cli.AdminClient;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.PostgresServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Agent entry sync at scale: simulated agents in this process speaking the real agent API (gRPC over
 * mutual TLS, the agent's own {@link AgentServerClient}: join-token Attest, then SyncEntries page by page
 * as the agent's entry sync does) against two {@code bin/sigil server run} processes on one PostgreSQL
 * (testkit). Each agent attests once with its own join token, holds one gRPC channel to its server
 * (agents alternate between the two servers) and keeps its entries in memory.
 *
 * <p>Setup through each server's admin API over its Unix socket: one join token per agent, then {@code --entries} entries through {@code POST /v1/entries/batch} (500 per request), spread evenly over
 * the agents as parents, each with one selector ({@code unix:uid:<n>}).
 *
 * <p>Reports: the time from "every agent attested" to "every agent holds all its entries" (first sync,
 * full state); {@code --rounds} steady-state rounds in which every agent syncs once with nothing changed
 * (wall time, CPU of both servers and of PostgreSQL, PostgreSQL transactions from
 * {@code pg_stat_database.xact_commit + xact_rollback}); the update of one agent's entries through the
 * admin API and how long until that agent, syncing every 100 ms, holds all of them; one more round in
 * which every other agent syncs past those changes; and server memory (VmRSS, and G1 heap used after a
 * full collection) before the agents attest and with all of them attested and synced. Exits non-zero if
 * any agent ends with the wrong entries.
 *
 * <pre>
 * java -cp sigil-bench/target/sigil-bench.jar dev.sigil.bench.AgentSyncScaleBench [--agents 1000] [--entries 100000]
 *     [--rounds 3] [--parallel 64]
 * </pre>
 * Run from the repository root (it starts {@code bin/sigil}).
 */
public final class AgentSyncScaleBench {
    private static final String ISSUER = "https://sigil.bench";
    private static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("example.org");
    private static final int BATCH = 500;
    /** The page size the agent's entry sync asks for. */
    private static final int PAGE = 1000;
    private static final String CHANGED_HINT = "changed";
    /** Time for backends to publish their statistics before pg_stat_database is read (PostgreSQL flushes at most once a second). */
    private static final long STATS_SETTLE_MILLIS = 2_500;

    private AgentSyncScaleBench() {}

    public static void main(String[] args) {
        int status;
        try {
            status = run(args) ? 0 : 1;
        } catch (Exception e) {
            e.printStackTrace();
            status = 2;
        }
        System.exit(status); // the admin and gRPC clients' threads would keep the JVM alive
    }

    private static boolean run(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--agents", "--entries", "--rounds", "--parallel"));
        int agentCount = options.positiveInt("--agents", 1_000);
        int entryCount = options.positiveInt("--entries", 100_000);
        int rounds = options.positiveInt("--rounds", 3);
        int parallel = options.positiveInt("--parallel", 64);
        if (entryCount % agentCount != 0) {
            throw new IllegalArgumentException("--entries " + entryCount + " must be a multiple of --agents " + agentCount);
        }
        int perAgent = entryCount / agentCount;
        Path sigil = ServerProcesses.sigil();
        Path dir = Files.createTempDirectory("sigil-sync-bench");
        List<Server> servers = new ArrayList<>();
        List<SimulatedAgent> agents = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        boolean ok;
        try (PostgresServer postgres = PostgresServer.start()) {
            PostgresServer.Database database = postgres.createDatabase();
            Path config = ServerProcesses.writeConfig(dir, database, ISSUER);
            for (int i = 0; i < 2; i++) {
                Server server = ServerProcesses.start(sigil, dir, config, i);
                servers.add(server);
                ServerProcesses.awaitHealthy(sigil, server);
            }
            System.out.printf("AgentSyncScaleBench: %,d agents, %,d entries (%d per agent), 2 servers on one PostgreSQL, %d cores, "
                    + "%d client threads%n", agentCount, entryCount, perAgent, Runtime.getRuntime().availableProcessors(), parallel);
            List<AdminClient> admins = servers.stream().map(s -> new AdminClient(s.adminSocket())).toList();
            admins.forEach(admin -> admin.get("/v1/health"));

            long setup = System.nanoTime();
            List<String[]> tokens = parallelMap(pool, agentCount, i -> {
                JsonNode token = admins.get(i % 2).post("/v1/join-tokens", Map.of("ttl", 3600)).json();
                // the ID the join_token attestor gives the agent that presents this token
                return new String[] {token.path("token").asText(), "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText()};
            });
            System.out.printf("join tokens: %,d in %.1f s (admin api)%n", agentCount, seconds(setup));
            setup = System.nanoTime();
            int batches = (entryCount + BATCH - 1) / BATCH;
            // one import at a time per server, as an operator's import runs: a batch holds a datastore connection throughout
            ExecutorService importers = Executors.newFixedThreadPool(2);
            parallelMap(importers, batches, b -> {
                List<Map<String, Object>> entries = new ArrayList<>();
                for (int n = b * BATCH; n < Math.min(entryCount, (b + 1) * BATCH); n++) {
                    entries.add(entryJson(n, tokens.get(n % agentCount)[1], null));
                }
                JsonNode results = admins.get(b % 2).post("/v1/entries/batch", Map.of("entries", entries)).json().path("results");
                for (JsonNode result : results) {
                    if (!result.path("error").isMissingNode() && !result.path("error").isNull()) {
                        throw new IllegalStateException("entry batch " + b + " refused an entry: " + result.path("error"));
                    }
                }
                return b;
            });
            importers.shutdown();
            System.out.printf("entries: %,d in %.1f s (%d batch requests of %d, admin api)%n", entryCount, seconds(setup), batches, BATCH);

            Thread.sleep(6_000); // every server re-reads the cluster's authorities within 5 s
            List<X509Certificate> anchors = new ArrayList<>();
            for (AdminClient admin : admins) {
                anchors.addAll(Pem.parseCertificates(admin.get("/v1/bundle?format=pem").json().path("pem").asText(), "bundle"));
            }
            SpiffeServerTrust trust = new SpiffeServerTrust(TRUST_DOMAIN, anchors, false, Clock.systemUTC());

            Stats stats = new Stats(database);
            Memory before = Memory.of(servers);
            for (int i = 0; i < agentCount; i++) {
                agents.add(new SimulatedAgent(servers.get(i % 2), tokens.get(i)[0], trust));
            }
            long start = System.nanoTime();
            Sample beforeAttest = Sample.take(servers, stats);
            runAll(pool, agents, SimulatedAgent::attest);
            Sample attested = Sample.take(servers, stats).minus(beforeAttest);
            System.out.printf("attest: %,d agents in %.1f s (one gRPC channel each, mTLS after attestation); server CPU %.1f s, "
                    + "PostgreSQL CPU %.1f s%n", agentCount, seconds(start), attested.serverCpuMicros / 1e6, attested.postgresCpuMicros / 1e6);

            start = System.nanoTime();
            Sample beforeSync = Sample.take(servers, stats);
            runAll(pool, agents, SimulatedAgent::sync);
            double firstSync = seconds(start);
            Sample synced = Sample.take(servers, stats).minus(beforeSync);
            long wrong = agents.stream().filter(a -> a.entries.size() != perAgent).count();
            System.out.printf("first sync: every agent holds its %d entries %.1f s after all attested (%,d agents with a wrong count); "
                            + "server CPU %.1f s, PostgreSQL CPU %.1f s, %,d transactions%n", perAgent, firstSync, wrong,
                    synced.serverCpuMicros / 1e6, synced.postgresCpuMicros / 1e6, synced.xacts);
            Memory after = Memory.of(servers);
            for (int s = 0; s < 2; s++) {
                int connected = (agentCount + 1 - s) / 2;
                System.out.printf("server %d memory: VmRSS %,d -> %,d MiB (%,.1f KiB per agent); heap used after full GC %,d -> %,d MiB "
                                + "(%,.1f KiB per agent), %,d agents%n", s, before.rssKib[s] / 1024, after.rssKib[s] / 1024,
                        (double) (after.rssKib[s] - before.rssKib[s]) / connected, before.heapKib[s] / 1024, after.heapKib[s] / 1024,
                        (double) (after.heapKib[s] - before.heapKib[s]) / connected, connected);
            }

            Sample idleStart = Sample.take(servers, stats);
            Thread.sleep(10_000);
            Sample idle = Sample.take(servers, stats).minus(idleStart);
            System.out.printf("idle (no agent calls, 10 s): %.1f transactions/s, server CPU %.1f ms/s, PostgreSQL CPU %.1f ms/s%n",
                    idle.xactsPerSecond(), idle.serverCpuMicros / 1000.0 / idle.seconds(), idle.postgresCpuMicros / 1000.0 / idle.seconds());

            System.out.printf("%n%-16s %9s %14s %16s %14s %12s %14s%n", "round", "wall s", "server CPU s", "PostgreSQL CPU s",
                    "transactions", "net of idle", "per agent sync");
            for (int r = 1; r <= rounds; r++) {
                round("unchanged " + r, pool, agents, servers, stats, idle, a -> a.sync());
            }

            SimulatedAgent target = agents.getFirst();
            AdminClient admin = admins.get(0);
            List<JsonNode> owned = new ArrayList<>();
            admin.get("/v1/entries?page_size=1000&parent_id=" + URLEncoder.encode(target.spiffeId, StandardCharsets.UTF_8)).json().path("entries").forEach(owned::add);
            ChangeWatch watch = new ChangeWatch(target, owned.size());
            Future<Long> seen = Executors.newSingleThreadExecutor(r -> {
                Thread thread = new Thread(r, "change-watch");
                thread.setDaemon(true);
                return thread;
            }).submit(watch);
            long updateStart = System.nanoTime();
            for (JsonNode entry : owned) {
                int n = Integer.parseInt(entry.path("spiffe_id").asText().substring("spiffe://example.org/svc/".length()));
                Map<String, Object> body = entryJson(n, target.spiffeId, CHANGED_HINT);
                body.put("revision", entry.path("revision").asLong());
                admin.put("/v1/entries/" + entry.path("id").asText(), body);
            }
            long updated = System.nanoTime();
            long seenAt = seen.get(60, TimeUnit.SECONDS);
            System.out.printf("%nchange: %d entries of one agent updated in %.2f s (PUT /v1/entries/{id} each); the agent, syncing every "
                            + "100 ms, held all of them %.0f ms after the last update was acknowledged%n", owned.size(), seconds(updateStart),
                    (seenAt - updated) / 1e6);
            round("after change", pool, agents, servers, stats, idle, a -> a.sync());

            long wrongCount = agents.stream().filter(a -> a.entries.size() != perAgent).count();
            long stale = target.entries.values().stream().filter(e -> !CHANGED_HINT.equals(e.hint())).count();
            Set<String> others = new HashSet<>();
            agents.stream().skip(1).forEach(a -> a.entries.values().forEach(e -> {
                if (CHANGED_HINT.equals(e.hint())) {
                    others.add(e.id());
                }
            }));
            ok = wrongCount == 0 && stale == 0 && others.isEmpty() && owned.size() == perAgent;
            System.out.printf("%ncheck: %,d agents with a wrong entry count, %d of the changed agent's entries stale, %d changed entries "
                    + "held by other agents: %s%n", wrongCount, stale, others.size(), ok ? "ok" : "FAILED");
        } finally {
            pool.shutdownNow();
            agents.forEach(SimulatedAgent::close);
            ServerProcesses.stop(servers);
        }
        return ok;
    }

    private static Map<String, Object> entryJson(int n, String parent, String hint) {
        Map<String, Object> entry = new HashMap<>();
        entry.put("spiffe_id", "spiffe://example.org/svc/" + n);
        entry.put("parent_id", parent);
        entry.put("selectors", List.of(Map.of("type", "unix", "value", "uid:" + n)));
        entry.put("owner", "bench");
        if (hint != null) {
            entry.put("hint", hint);
        }
        return entry;
    }

    private static void round(String name, ExecutorService pool, List<SimulatedAgent> agents, List<Server> servers, Stats stats,
                              Sample idle, Consumer<SimulatedAgent> call) throws Exception {
        Sample start = Sample.take(servers, stats);
        long began = System.nanoTime();
        runAll(pool, agents, call);
        double wall = seconds(began);
        Sample cpu = Sample.take(servers, stats).minus(start);
        Thread.sleep(STATS_SETTLE_MILLIS);
        Sample settled = Sample.take(servers, stats).minus(start);
        double net = settled.xacts - idle.xactsPerSecond() * settled.seconds();
        System.out.printf("%-16s %9.2f %14.2f %16.2f %14d %12.0f %14.2f%n", name, wall, cpu.serverCpuMicros / 1e6,
                cpu.postgresCpuMicros / 1e6, settled.xacts, net, net / agents.size());
    }

    private static void runAll(ExecutorService pool, List<SimulatedAgent> agents, Consumer<SimulatedAgent> call) throws Exception {
        parallelMap(pool, agents.size(), i -> {
            call.accept(agents.get(i));
            return i;
        });
    }

    interface Task<T> {
        T run(int index) throws Exception;
    }

    private static <T> List<T> parallelMap(ExecutorService pool, int count, Task<T> task) throws Exception {
        List<Future<T>> futures = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int index = i;
            futures.add(pool.submit(() -> task.run(index)));
        }
        List<T> results = new ArrayList<>(count);
        for (Future<T> future : futures) {
            results.add(future.get(10, TimeUnit.MINUTES));
        }
        return results;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /**
     * One simulated node agent: its key, its SVID, one client (one gRPC channel) to its server, and the
     * entries it holds. A sync runs the agent's entry sync loop: pages from its last revision while the
     * server says there are more; a full-state answer replaces what it holds.
     */
    static final class SimulatedAgent implements AutoCloseable {
        private final String token;
        private final AtomicReference<Optional<AgentCredentials>> credentials = new AtomicReference<>(Optional.empty());
        private final AgentServerClient client;
        final Map<String, RegistrationEntry> entries = new HashMap<>();
        private long revision;
        private long bundleSequence;
        volatile String spiffeId;

        SimulatedAgent(Server server, String token, SpiffeServerTrust trust) {
            this.token = token;
            this.client = new AgentServerClient("127.0.0.1", server.agentApiPort(), TRUST_DOMAIN, trust, credentials::get);
        }

        void attest() {
            KeyPair keys = NodeKeys.generate();
            AgentSvid svid = client.attest(new JoinTokenAttestorClient(token), NodeKeys.csr(keys));
            credentials.set(Optional.of(new AgentCredentials(keys, svid)));
            spiffeId = svid.spiffeId().toString();
            client.reconnect(); // from now on the channel presents the agent SVID
        }

        synchronized void sync() {
            Set<String> fullState = null;
            SyncPage page;
            do {
                long since = revision;
                page = client.sync(since, bundleSequence, PAGE);
                if (page.fullState() && fullState == null) {
                    fullState = new LinkedHashSet<>();
                }
                for (RegistrationEntry entry : page.changed()) {
                    entries.put(entry.id(), entry);
                    if (fullState != null) {
                        fullState.add(entry.id());
                    }
                }
                page.removedIds().forEach(entries::remove);
                page.bundle().ifPresent(b -> bundleSequence = b.sequence());
                revision = page.throughRevision();
                if (page.more() && page.throughRevision() <= since) {
                    throw new IllegalStateException("server says more entries follow revision " + since + " but sent through "
                            + page.throughRevision());
                }
            } while (page.more());
            if (fullState != null) {
                entries.keySet().retainAll(fullState);
            }
        }

        synchronized long changedCount() {
            return entries.values().stream().filter(e -> CHANGED_HINT.equals(e.hint())).count();
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /** Syncs one agent every 100 ms until it holds {@code expected} changed entries; returns System.nanoTime() then. */
    private record ChangeWatch(SimulatedAgent agent, int expected) implements Callable<Long> {
        @Override
        public Long call() throws Exception {
            while (true) {
                agent.sync();
                if (agent.changedCount() == expected) {
                    return System.nanoTime();
                }
                Thread.sleep(100);
            }
        }
    }

    /** PostgreSQL transactions of the bench database (each of these reads counts one). */
    private static final class Stats {
        private final Connection connection;
        private final long postmaster;

        Stats(PostgresServer.Database database) throws SQLException, java.io.IOException {
            this.connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
            try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery("select pg_backend_pid()")) {
                row.next();
                this.postmaster = ServerProcesses.parentPid(row.getLong(1));
            }
        }

        long postgresCpuMicros() {
            return ServerProcesses.postgresTreeCpuMicros(postmaster);
        }

        long transactions() {
            try (Statement statement = connection.createStatement();
                 ResultSet row = statement.executeQuery(
                         "select xact_commit + xact_rollback from pg_stat_database where datname = current_database()")) {
                row.next();
                return row.getLong(1);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot read pg_stat_database: " + e.getMessage(), e);
            }
        }
    }

    /** CPU of both servers and of PostgreSQL, and PostgreSQL transactions, at one moment or as a difference. */
    private record Sample(long nanos, long serverCpuMicros, long postgresCpuMicros, long xacts) {
        static Sample take(List<Server> servers, Stats stats) {
            return new Sample(System.nanoTime(), servers.stream().mapToLong(s -> ServerProcesses.cpuMicros(s.process().pid())).sum(),
                    stats.postgresCpuMicros(), stats.transactions());
        }

        Sample minus(Sample earlier) {
            return new Sample(nanos - earlier.nanos, serverCpuMicros - earlier.serverCpuMicros,
                    postgresCpuMicros - earlier.postgresCpuMicros, xacts - earlier.xacts - 1);
        }

        double seconds() {
            return nanos / 1e9;
        }

        double xactsPerSecond() {
            return xacts / seconds();
        }
    }

    /** VmRSS and the G1 heap used right after a full collection ({@code jcmd GC.run}, then {@code GC.heap_info}), per server. */
    private record Memory(long[] rssKib, long[] heapKib) {
        private static final Pattern USED = Pattern.compile("garbage-first heap\\s+total.*?used (\\d+)K");

        static Memory of(List<Server> servers) throws Exception {
            long[] rss = new long[servers.size()];
            long[] heap = new long[servers.size()];
            for (int i = 0; i < servers.size(); i++) {
                long pid = servers.get(i).process().pid();
                rss[i] = ServerProcesses.rssKib(pid);
                jcmd(pid, "GC.run");
                Matcher used = USED.matcher(jcmd(pid, "GC.heap_info"));
                heap[i] = used.find() ? Long.parseLong(used.group(1)) : 0;
            }
            return new Memory(rss, heap);
        }

        private static String jcmd(long pid, String command) throws Exception {
            Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
            Process process = new ProcessBuilder(java.resolveSibling("jcmd").toString(), Long.toString(pid), command)
                    .redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor();
            return out;
        }
    }
}
