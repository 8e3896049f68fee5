package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.agent.Agent;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.drift.DriftReporter;
import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.agent.workload.WorkloadApiServer;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.cli.AdminClient;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.testkit.PostgresServer;
import dev.sigil.server.agent.DriftEvent;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Workload drift, end to end, with the real server and agent in this JVM (server on a fresh data
 * directory, embedded SQLite; an {@link Agent} attested with a join token; the agent's Workload API
 * with its drift monitor and {@link DriftReporter}, wired as {@code AgentRuntime} wires them).
 *
 * <ol>
 *   <li><b>Drift to withdrawn and audited</b>, {@code --trials} times: a fresh copy of {@code /bin/sleep}
 *       runs as a child process; this JVM opens FetchX509SVID on the child's behalf (the Workload API's
 *       procfs root maps this JVM's pid, which the kernel reports as the peer, to the child's
 *       {@code /proc/<pid>}, so the real unix attestor reads the child); the entry matches the binary's
 *       {@code unix:sha256}. Then the binary is replaced on disk (new file renamed over it), and two times
 *       are taken from the rename: until the stream ends with PERMISSION_DENIED, and until the server's
 *       drift listener is called (after the {@code workload.drift} audit records are committed).</li>
 *   <li><b>Monitoring overhead</b>: {@code --workloads} real {@code sleep} processes are put under the
 *       drift monitor; process CPU time (and the re-attestation thread's) over {@code --window} seconds
 *       with and without them, and the live heap after a full GC before and after.</li>
 * </ol>
 */
public final class DriftBench {
    private static final String TRUST_DOMAIN = "bench.test";
    private static final int OWN_PID = (int) ProcessHandle.current().pid();
    private static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    private DriftBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--trials", "--workloads", "--window", "--reattest-ms"));
        int trials = options.positiveInt("--trials", 30);
        int workloads = options.positiveInt("--workloads", 1000);
        int window = options.positiveInt("--window", 20);
        Duration reattest = Duration.ofMillis(options.positiveInt("--reattest-ms", 1000));
        Logging.apply("error"); // every drift is logged as a warning
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        LinkedBlockingQueue<DriftEvent> audited = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Long> auditedAt = new LinkedBlockingQueue<>();
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (TempDirectory root = TempDirectory.create("sigil-drift");
             PostgresServer postgres = PostgresServer.start();
             SigilServer server = startServer(root.path(), postgresBroker(root.path(), postgres), event -> {
                 auditedAt.add(System.nanoTime());
                 audited.add(event);
             });
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            Path bundle = root.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            JsonNode token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            String agentId = "spiffe://" + TRUST_DOMAIN + "/sigil/agent/join_token/" + token.path("id").asText();
            String workloadId = "spiffe://" + TRUST_DOMAIN + "/bench/drift";
            admin.post("/v1/entries", Map.of("spiffe_id", workloadId, "parent_id", agentId, "owner", "bench",
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid),
                            Map.of("type", "unix", "value", "sha256:" + sha256(Path.of("/bin/sleep"))))));
            Path proc = Files.createDirectories(root.resolve("proc"));
            try (Agent agent = new Agent(agentConfig(root.resolve("agent"), server, bundle, token.path("token").asText()),
                    new JoinTokenAttestorClient(token.path("token").asText()), Clock.systemUTC());
                 DriftReporter reporter = DriftReporter.create(agent::reportDrift)) {
                agent.start();
                WorkloadApiConfig config = WorkloadApiConfig.defaults().withSocketPath(root.resolve("agent/public/api.sock"))
                        .withProcRoot(proc).withReattestInterval(reattest);
                try (WorkloadApiServer api = WorkloadApiServer.create(config, agent.identities(),
                        List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)), reporter,
                        Clock.systemUTC()).start()) {
                    await(() -> agent.identities().synced() && agent.cache().identityCount() == 1);
                    System.out.printf("server and agent in this JVM (pid %d), re-attestation every %d ms, data in %s%n%n",
                            OWN_PID, reattest.toMillis(), root.path());
                    ManagedChannel channel = channel(api.socketPath().toString(), clientGroup);
                    try {
                        driftLatency(root.path(), proc, channel, workloadId, trials, audited, auditedAt, new DriftHoldings(server));
                    } finally {
                        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                    }
                    overhead(root.path(), proc, api, workloads, window, reattest);
                }
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    // ---- 1. drift latency

    private static void driftLatency(Path root, Path proc, ManagedChannel channel, String workloadId, int trials,
                                     LinkedBlockingQueue<DriftEvent> audited, LinkedBlockingQueue<Long> auditedAt,
                                     DriftHoldings holdings) throws Exception {
        int warmup = 3;
        long[] withdrawn = new long[trials];
        long[] recorded = new long[trials];
        long[] revoked = new long[trials];
        for (int i = -warmup; i < trials; i++) {
            Path dir = Files.createDirectories(root.resolve("trial-" + (i + warmup)));
            Path binary = dir.resolve("app");
            Files.copy(Path.of("/bin/sleep"), binary);
            Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
            Process child = new ProcessBuilder(binary.toString(), "600").start();
            try {
                Path link = proc.resolve(Integer.toString(OWN_PID));
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, Path.of("/proc", Long.toString(child.pid())));
                LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
                Context.CancellableContext call = Context.current().withCancellation();
                call.run(() -> SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(), collect(events)));
                Object first = events.poll(30, TimeUnit.SECONDS);
                if (!(first instanceof X509SVIDResponse response) || !response.getSvids(0).getSpiffeId().equals(workloadId)) {
                    throw new IllegalStateException("trial " + i + ": expected the workload's svid first, got " + first);
                }
                audited.clear();
                auditedAt.clear();
                List<dev.sigil.server.credential.LeaseId> held = holdings.obtain(workloadId);

                long start = System.nanoTime();
                Path replacement = dir.resolve("app.new");
                Files.copy(Path.of("/bin/true"), replacement, StandardCopyOption.REPLACE_EXISTING);
                Files.move(replacement, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

                Object end = events.poll(30, TimeUnit.SECONDS);
                long endedAt = System.nanoTime();
                if (!(end instanceof Throwable failure) || Status.fromThrowable(failure).getCode() != Status.Code.PERMISSION_DENIED) {
                    throw new IllegalStateException("trial " + i + ": expected the stream to end with PERMISSION_DENIED, got " + end);
                }
                DriftEvent event = audited.poll(30, TimeUnit.SECONDS);
                Long at = auditedAt.poll(1, TimeUnit.SECONDS);
                if (event == null || at == null || !event.spiffeIds().toString().contains(workloadId)) {
                    throw new IllegalStateException("trial " + i + ": the server recorded no drift of " + workloadId);
                }
                call.cancel(null);
                while (!holdings.allRevoked(held) && System.nanoTime() - start < 30_000_000_000L) {
                    Thread.sleep(2);
                }
                long revokedAt = System.nanoTime();
                if (!holdings.allRevoked(held)) {
                    throw new IllegalStateException("trial " + i + ": the workload's token and postgresql lease were not revoked in 30 s");
                }
                if (i >= 0) {
                    withdrawn[i] = endedAt - start;
                    recorded[i] = at - start;
                    revoked[i] = revokedAt - start;
                }
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        System.out.printf("%-62s %8s %8s %8s%n", String.format("binary replaced -> ... (%d trials)", trials), "p50 ms", "p99 ms", "max ms");
        System.out.printf("%-62s %8s %8s %8s%n", (Object[]) row("stream ended with PERMISSION_DENIED", withdrawn));
        System.out.printf("%-62s %8s %8s %8s%n", (Object[]) row("drift audited at the server (listener called)", recorded));
        System.out.printf("%-62s %8s %8s %8s  (target <= 2 s: %s)%n%n", (Object[]) withTarget(
                row("every credential revoked (token + postgresql role)", revoked), revoked));
    }

    // ---- 2. monitoring overhead

    private static void overhead(Path root, Path proc, WorkloadApiServer api, int workloads, int window, Duration reattest)
            throws Exception {
        Path dir = Files.createDirectories(root.resolve("fleet"));
        Path binary = dir.resolve("sleeper");
        Files.copy(Path.of("/bin/sleep"), binary);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        Thread.sleep(reattest.toMillis() * 3); // let the latency trials' records be dropped
        List<Process> children = new ArrayList<>();
        try {
            for (int i = 0; i < workloads; i++) {
                children.add(new ProcessBuilder(binary.toString(), "3600").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start());
            }
            // the baseline includes the children and this JVM's handles on them, only the monitoring differs
            long baseHeap = liveHeap();
            Cpu idle = Cpu.measure(window);
            int watched = 0;
            for (Process child : children) {
                // the Workload API reads this bench's procfs root: expose each child's real /proc entry there
                Files.createSymbolicLink(proc.resolve(Long.toString(child.pid())), Path.of("/proc", Long.toString(child.pid())));
                watched += api.watchProcess((int) child.pid()) ? 1 : 0;
            }
            Thread.sleep(reattest.toMillis() * 2);
            long heap = liveHeap();
            Cpu busy = Cpu.measure(window);
            double passes = (double) window * 1000 / reattest.toMillis();
            System.out.printf("monitoring overhead: %d sleeping processes monitored (of %d started), %d s windows%n", watched, workloads, window);
            System.out.printf("%-62s %12s%n", "", "value");
            System.out.printf("%-62s %12.2f %%%n", "process cpu, no workloads monitored (one core = 100%)", idle.processPercent());
            System.out.printf("%-62s %12.2f %%%n", "process cpu, workloads monitored", busy.processPercent());
            System.out.printf("%-62s %12.2f %%%n", "re-attestation thread cpu, workloads monitored", busy.reattestPercent());
            System.out.printf("%-62s %12.1f us%n", "re-attestation cpu per workload per pass",
                    busy.reattestNanos() / 1000.0 / passes / Math.max(1, watched));
            System.out.printf("%-62s %12.1f MB%n", "live objects (class histogram), before", baseHeap / 1e6);
            System.out.printf("%-62s %12.1f MB%n", "live objects (class histogram), workloads monitored", heap / 1e6);
            System.out.printf("%-62s %12.0f bytes%n", "live objects per monitored workload", (heap - baseHeap) / (double) Math.max(1, watched));
            System.out.printf("%-62s %12d%n", "workloads tracked by the monitor", api.monitoredWorkloads());
            System.out.println("busiest java threads, no workloads: " + idle.busiest());
            System.out.println("busiest java threads, workloads monitored: " + busy.busiest());
        } finally {
            for (Process child : children) {
                child.destroyForcibly();
            }
            for (Process child : children) {
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** CPU used over a window: the whole process's and the drift monitor's re-attestation thread's. */
    private record Cpu(long wallNanos, long processNanos, long reattestNanos, String busiest) {
        static Cpu measure(int seconds) throws InterruptedException {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            Thread reattester = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("sigil-workload-reattest")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no re-attestation thread"));
            Map<Thread, Long> before = new java.util.HashMap<>();
            Thread.getAllStackTraces().keySet().forEach(t -> before.put(t, threads.getThreadCpuTime(t.threadId())));
            long wall = System.nanoTime();
            long process = processCpu();
            long thread = threads.getThreadCpuTime(reattester.threadId());
            Thread.sleep(seconds * 1000L);
            long elapsed = System.nanoTime() - wall;
            String busiest = before.entrySet().stream()
                    .map(e -> Map.entry(e.getKey().getName(), threads.getThreadCpuTime(e.getKey().threadId()) - e.getValue()))
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(4)
                    .map(e -> String.format("%s %.2f%%", e.getKey(), 100.0 * e.getValue() / elapsed))
                    .reduce((a, b) -> a + ", " + b).orElse("");
            return new Cpu(elapsed, processCpu() - process, threads.getThreadCpuTime(reattester.threadId()) - thread, busiest);
        }

        double processPercent() {
            return 100.0 * processNanos / wallNanos;
        }

        double reattestPercent() {
            return 100.0 * reattestNanos / wallNanos;
        }

        private static long processCpu() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        }
    }

    /**
     * Bytes of live objects: the total of a class histogram (what {@code jcmd <pid> GC.class_histogram}
     * prints; it runs a full GC first). Steadier than heap "used" after System.gc(), which counts
     * G1's filler and partly filled regions.
     */
    private static long liveHeap() throws Exception {
        Thread.sleep(200);
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        for (String line : histogram.lines().toList().reversed()) {
            if (line.startsWith("Total")) {
                String[] fields = line.trim().split("\\s+");
                return Long.parseLong(fields[2]);
            }
        }
        throw new IllegalStateException("no total in the class histogram");
    }

    // ---- setup and helpers

    private static String[] withTarget(String[] row, long[] nanos) {
        long[] sorted = nanos.clone();
        java.util.Arrays.sort(sorted);
        String[] result = java.util.Arrays.copyOf(row, row.length + 1);
        result[row.length] = sorted[sorted.length * 99 / 100] <= 2_000_000_000L ? "met at p99" : "NOT met at p99";
        return result;
    }

    /** A PostgreSQL set up as docs/brokers/postgresql.md says, and the broker configuration pointing at it. */
    private static String postgresBroker(Path root, PostgresServer postgres) throws Exception {
        PostgresServer.Database database = postgres.createDatabase();
        PostgresBrokerBench.setUp(database);
        Path passwordFile = root.resolve("pg.pass");
        Files.writeString(passwordFile, PostgresBrokerBench.ADMIN_PASSWORD);
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        return """
                brokers:
                  postgresql:
                    url: "%s"
                    admin_user: sigil_broker
                    admin_password_file: %s
                    resources:
                      reports:
                        member_of: [reports_read]
                """.formatted(database.jdbcUrl(), passwordFile);
    }

    private static SigilServer startServer(Path root, String brokers, dev.sigil.server.agent.DriftListener listener) throws IOException {
        Path file = root.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: %s
                log_level: warn
                bundle_endpoint:
                  enabled: false
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                """.formatted(root.resolve("server"), TRUST_DOMAIN) + brokers);
        // Everything allowed but a milder drift response, so every drift is answered with revoke.
        dev.sigil.server.policy.PolicyEngine policy = request -> request.action().startsWith("drift:")
                ? new dev.sigil.server.policy.Decision.Deny(List.of("bench: revoke on drift"))
                : new dev.sigil.server.policy.Decision.Allow(List.of("bench allows"), dev.sigil.server.policy.Decision.Obligations.none());
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root), ConfigOverrides.none()),
                Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(policy).withDriftListener(listener));
    }

    private static AgentConfig agentConfig(Path dataDir, SigilServer server, Path bundle, String token) throws IOException {
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        return new AgentConfig(dataDir, new TrustDomain(TRUST_DOMAIN),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token),
                dataDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
    }

    private static ManagedChannel channel(String socket, EventLoopGroup group) {
        Metadata headers = new Metadata();
        headers.put(SECURITY_HEADER, "true");
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
                .build();
    }

    private static <T> StreamObserver<T> collect(LinkedBlockingQueue<Object> events) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                events.add(value);
            }

            @Override
            public void onError(Throwable t) {
                events.add(t);
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        };
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            digest.update(in.readAllBytes());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent did not get the workload's svid within 120 s");
            }
            Thread.sleep(20);
        }
    }

    private static String[] row(String label, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new String[] {label, ms(sorted[(int) Math.ceil(sorted.length * 0.50) - 1]),
                ms(sorted[(int) Math.ceil(sorted.length * 0.99) - 1]), ms(sorted[sorted.length - 1])};
    }

    private static String ms(long nanos) {
        return String.format("%.1f", nanos / 1e6);
    }
}
