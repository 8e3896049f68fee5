package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.cli.AdminClient;
import dev.sigil.cli.server.Logging;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Workload API as real workloads use it: the agent runs in its own process, started as
 * {@code sigil agent run} starts it (the launcher's long-running JVM options, {@code java -jar sigil.jar
 * agent run --config ...}, join token in {@code SIGIL_JOIN_TOKEN}), and this JVM is the workload: its
 * gRPC clients connect to the agent's Unix socket, so every figure includes the kernel round trip between
 * two processes. The server runs in this JVM (embedded SQLite, loopback agent API); it is idle while
 * latencies are measured (one sync per second per agent).
 *
 * <p>Several agent distributions can be measured in one run ({@code --agents label=path/to/sigil.jar,...},
 * each with its own {@code lib/} beside the jar), all started at once, each with its own entry for this
 * JVM's uid; the latency blocks alternate between them round by round, so that load from other users of
 * the machine falls on all of them alike.
 *
 * <ol>
 *   <li>FetchX509SVID first response on one reused channel ({@code --calls} per round after
 *       {@code --warmup} untimed ones), and with a new connection per call ({@code --connect-calls} per
 *       round): open the stream, wait for the first response (checked: exactly our SVID), cancel. Besides the
 *       percentiles, the agent process's CPU time per call (from {@code /proc/<agent pid>/stat}), which the
 *       load of other processes on the machine does not inflate as it does latencies.</li>
 *   <li>{@code --streams} FetchX509SVID streams at once, {@code --per-channel} per connection: time until
 *       every first response arrived and the agent process's VmRSS (from {@code /proc/<agent pid>/status})
 *       before and with them open; then the entry is updated, and timed until every stream received the
 *       rotated SVID.</li>
 * </ol>
 *
 * <p>Usage: {@code WorkloadApiProcessBench [--agents new=sigil-cli/target/sigil.jar] [--rounds 5] [--calls 2000]
 * [--warmup 20000] [--connect-calls 200] [--streams 10000] [--per-channel 50] [--agent-heap 512m] [--jfr DIR]}
 */
public final class WorkloadApiProcessBench {
    private static final String TRUST_DOMAIN = "bench.test";
    private static final long WAIT_SECONDS = 180;
    private static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    private WorkloadApiProcessBench() {}

    /** One agent process under test and what was measured of it. */
    private static final class AgentUnderTest {
        final String label;
        final Path jar;
        Process process;
        Path socket;
        String workloadId;
        JsonNode entry;
        String agentId;
        final List<Long> reused = new ArrayList<>();
        final List<Long> connected = new ArrayList<>();
        final List<String> roundP99 = new ArrayList<>();
        long reusedCpuMicros;
        long connectedCpuMicros;
        final Map<String, String> figures = new LinkedHashMap<>();

        AgentUnderTest(String label, Path jar) {
            this.label = label;
            this.jar = jar;
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--agents", "--rounds", "--calls", "--warmup", "--connect-calls", "--streams",
                "--per-channel", "--agent-heap", "--jfr"));
        int rounds = options.positiveInt("--rounds", 5);
        int calls = options.positiveInt("--calls", 2_000);
        // a long-running agent is warm: 2,000 calls left its hot path still being compiled (about 5x the CPU per call)
        int warmup = options.positiveInt("--warmup", 20_000);
        int connectCalls = options.positiveInt("--connect-calls", 200);
        int streams = options.positiveInt("--streams", 10_000);
        int perChannel = options.positiveInt("--per-channel", 50);
        String heap = options.string("--agent-heap", "512m");
        String jfr = options.string("--jfr", "");
        List<AgentUnderTest> agents = new ArrayList<>();
        for (String spec : options.string("--agents", "new=sigil-cli/target/sigil.jar").split(",")) {
            String[] parts = spec.split("=", 2);
            if (parts.length != 2 || !Files.isRegularFile(Path.of(parts[1]))) {
                throw new IllegalArgumentException("--agents entry '" + spec + "' is not label=path/to/sigil.jar of an existing jar");
            }
            agents.add(new AgentUnderTest(parts[0], Path.of(parts[1]).toAbsolutePath()));
        }
        Logging.apply("warn");
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();

        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        try (TempDirectory root = TempDirectory.create("sigil-wlproc");
             SigilServer server = startServer(root.path());
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            Path bundle = root.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            System.out.printf("workload (client) and server in this JVM (pid %d, uid %d); %d agent process(es); data in %s%n",
                    ProcessHandle.current().pid(), uid, agents.size(), root.path());
            try {
                for (AgentUnderTest agent : agents) {
                    startAgent(agent, admin, root.path(), bundle, server, uid, heap, jfr);
                }
                for (AgentUnderTest agent : agents) {
                    awaitServed(agent, clientGroup);
                    System.out.printf("agent '%s' (pid %d, %s) serves %s%n", agent.label, agent.process.pid(), agent.jar,
                            agent.workloadId);
                }
                // 1. latency, alternating between the agents round by round
                for (int round = 1; round <= rounds; round++) {
                    for (AgentUnderTest agent : agents) {
                        long[] reused = reusedChannel(agent, clientGroup, round == 1 ? warmup : warmup / 10, calls);
                        long[] connected = newConnections(agent, clientGroup, connectCalls);
                        agent.roundP99.add(ms(percentile(reused, 99)));
                        System.out.printf("round %d agent %-10s reused p50 %s p99 %s | new connection p50 %s p99 %s ms  (load %s)%n",
                                round, agent.label, ms(percentile(reused, 50)), ms(percentile(reused, 99)),
                                ms(percentile(connected, 50)), ms(percentile(connected, 99)), loadAverage());
                    }
                }
                // 2. many streams and a rotation, one agent at a time
                for (AgentUnderTest agent : agents) {
                    try {
                        openStreams(agent, admin, clientGroup, uid, streams, perChannel);
                    } catch (Exception e) {
                        agent.figures.put("streams", "failed: " + e);
                        System.out.printf("agent '%s': %d streams failed: %s%n", agent.label, streams, e);
                    }
                }
            } finally {
                for (AgentUnderTest agent : agents) {
                    stop(agent);
                }
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }

        System.out.printf("%nFetchX509SVID first response, agent in its own process (%d rounds)%n", rounds);
        System.out.printf("%-10s %-36s %9s %9s %9s %9s %13s%n", "agent", "", "p50 ms", "p90 ms", "p99 ms", "max ms", "agent CPU/call");
        for (AgentUnderTest agent : agents) {
            printRow(agent.label, String.format("reused channel (%,d calls)", agent.reused.size()), agent.reused, agent.reusedCpuMicros);
            printRow(agent.label, String.format("new connection per call (%,d calls)", agent.connected.size()), agent.connected,
                    agent.connectedCpuMicros);
            System.out.printf("%-10s %-36s %s%n", agent.label, "reused channel p99 per round", String.join(" ", agent.roundP99));
        }
        System.out.printf("%n%,d streams (%d per connection), agent in its own process%n", streams, perChannel);
        for (AgentUnderTest agent : agents) {
            for (Map.Entry<String, String> figure : agent.figures.entrySet()) {
                System.out.printf("%-10s %-62s %s%n", agent.label, figure.getKey(), figure.getValue());
            }
        }
    }

    // ---- set-up

    private static SigilServer startServer(Path root) throws IOException {
        Path file = root.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: %s
                log_level: warn
                bundle_endpoint:
                  port: 0
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                """.formatted(root.resolve("server"), TRUST_DOMAIN));
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root), ConfigOverrides.none()));
    }

    private static void startAgent(AgentUnderTest agent, AdminClient admin, Path root, Path bundle, SigilServer server, long uid,
                                   String heap, String jfr) throws IOException {
        JsonNode issued = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
        agent.agentId = "spiffe://" + TRUST_DOMAIN + "/sigil/agent/join_token/" + issued.path("id").asText();
        agent.workloadId = "spiffe://" + TRUST_DOMAIN + "/bench/" + agent.label;
        agent.entry = admin.post("/v1/entries", entry(agent, uid, 3600)).json();
        Path dir = Files.createDirectories(root.resolve("agent-" + agent.label));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        agent.socket = Files.createDirectories(root.resolve("sock-" + agent.label)).resolve("api.sock");
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, """
                data_dir: %s
                trust_domain: %s
                server_address: 127.0.0.1:%d
                trust_bundle_path: %s
                node_attestor:
                  type: join_token
                workload_api:
                  socket_path: %s
                sync_interval: 1s
                log_level: warn
                """.formatted(dir.resolve("data"), TRUST_DOMAIN, server.agentApiAddress().getPort(), bundle, agent.socket));
        // the JVM options bin/sigil gives `agent run` (its long-running profile)
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=50",
                "-Xms" + heap, "-Xmx" + heap));
        if (!jfr.isEmpty()) {
            command.add("-XX:StartFlightRecording=filename=" + Path.of(jfr).toAbsolutePath().resolve("agent-" + agent.label + ".jfr")
                    + ",settings=profile");
        }
        command.addAll(List.of("-jar", agent.jar.toString(), "agent", "run", "--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
        builder.environment().put("SIGIL_JOIN_TOKEN", issued.path("token").asText());
        agent.process = builder.start();
    }

    private static Map<String, Object> entry(AgentUnderTest agent, long uid, int x509TtlSeconds) {
        return Map.of("spiffe_id", agent.workloadId, "parent_id", agent.agentId,
                "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "bench", "x509_svid_ttl", x509TtlSeconds);
    }

    private static void awaitServed(AgentUnderTest agent, EventLoopGroup group) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            if (!agent.process.isAlive()) {
                throw new IllegalStateException("agent '" + agent.label + "' exited; see its agent.log");
            }
            if (Files.exists(agent.socket)) {
                ManagedChannel channel = channel(agent.socket, group);
                try {
                    SvidStream stream = SvidStream.open(channel);
                    X509SVIDResponse first = stream.first.get(10, TimeUnit.SECONDS);
                    serial(first, agent.workloadId);
                    stream.cancel();
                    return;
                } catch (ExecutionException | TimeoutException | IllegalStateException e) {
                    // not yet synced or attested; try again
                } finally {
                    shutdown(channel);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("agent '" + agent.label + "' did not serve its svid within " + WAIT_SECONDS + " s");
            }
            Thread.sleep(200);
        }
    }

    private static void stop(AgentUnderTest agent) throws InterruptedException {
        if (agent.process != null) {
            agent.process.destroy();
            if (!agent.process.waitFor(20, TimeUnit.SECONDS)) {
                agent.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    // ---- 1. latency

    private static long[] reusedChannel(AgentUnderTest agent, EventLoopGroup group, int warmup, int calls) throws Exception {
        ManagedChannel channel = channel(agent.socket, group);
        try {
            for (int i = 0; i < warmup; i++) {
                firstResponse(channel, agent.workloadId);
            }
            long[] nanos = new long[calls];
            long cpu = ServerProcesses.cpuMicros(agent.process.pid());
            for (int i = 0; i < calls; i++) {
                nanos[i] = firstResponse(channel, agent.workloadId);
                agent.reused.add(nanos[i]);
            }
            agent.reusedCpuMicros += ServerProcesses.cpuMicros(agent.process.pid()) - cpu;
            return nanos;
        } finally {
            shutdown(channel);
        }
    }

    private static long[] newConnections(AgentUnderTest agent, EventLoopGroup group, int calls) throws Exception {
        for (int i = 0; i < Math.max(5, calls / 10); i++) {
            newConnection(agent, group);
        }
        long[] nanos = new long[calls];
        long cpu = ServerProcesses.cpuMicros(agent.process.pid());
        for (int i = 0; i < calls; i++) {
            nanos[i] = newConnection(agent, group);
            agent.connected.add(nanos[i]);
        }
        agent.connectedCpuMicros += ServerProcesses.cpuMicros(agent.process.pid()) - cpu;
        return nanos;
    }

    private static long firstResponse(ManagedChannel channel, String spiffeId) throws Exception {
        long start = System.nanoTime();
        SvidStream stream = SvidStream.open(channel);
        X509SVIDResponse response = get(stream.first);
        long elapsed = System.nanoTime() - start;
        stream.cancel();
        serial(response, spiffeId);
        return elapsed;
    }

    private static long newConnection(AgentUnderTest agent, EventLoopGroup group) throws Exception {
        long start = System.nanoTime();
        ManagedChannel channel = channel(agent.socket, group);
        try {
            X509SVIDResponse response = get(SvidStream.open(channel).first);
            long elapsed = System.nanoTime() - start;
            serial(response, agent.workloadId);
            return elapsed;
        } finally {
            shutdown(channel);
        }
    }

    // ---- 2. streams and rotation

    private static void openStreams(AgentUnderTest agent, AdminClient admin, EventLoopGroup group, long uid, int streams, int perChannel)
            throws Exception {
        long pid = agent.process.pid();
        long rssBefore = ServerProcesses.rssKib(pid);
        long cpuBefore = ServerProcesses.cpuMicros(pid);
        CountDownLatch rotated = new CountDownLatch(streams);
        AtomicLong firstRotatedAt = new AtomicLong();
        AtomicLong lastRotatedAt = new AtomicLong();
        List<ManagedChannel> channels = new ArrayList<>();
        List<SvidStream> open = new ArrayList<>(streams);
        try {
            long start = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                if (i % perChannel == 0) {
                    channels.add(channel(agent.socket, group));
                }
                open.add(SvidStream.open(channels.getLast(), rotated, firstRotatedAt, lastRotatedAt));
            }
            BigInteger serial = null;
            for (SvidStream stream : open) {
                BigInteger s = serial(get(stream.first), agent.workloadId);
                if (serial != null && !serial.equals(s)) {
                    throw new IllegalStateException("streams received different serials before the rotation");
                }
                serial = s;
            }
            long allFirst = System.nanoTime() - start;
            long cpuOpen = ServerProcesses.cpuMicros(pid) - cpuBefore;
            long rssOpen = ServerProcesses.rssKib(pid);
            agent.figures.put(String.format("open %,d streams on %,d connections until all first responses", streams, channels.size()),
                    ms(allFirst) + " ms");
            agent.figures.put("  agent CPU meanwhile", String.format("%.0f ms", cpuOpen / 1e3));
            agent.figures.put("agent VmRSS before (its own process)", String.format("%.1f MB", rssBefore / 1024.0));
            agent.figures.put("agent VmRSS with all streams open", String.format("%.1f MB", rssOpen / 1024.0));
            agent.figures.put("  difference per stream", String.format("%.1f KB", (rssOpen - rssBefore) / (double) streams));

            for (SvidStream stream : open) {
                stream.expectSerialOtherThan = serial;
            }
            long cpuRotate = ServerProcesses.cpuMicros(pid);
            long updateStart = System.nanoTime();
            admin.put("/v1/entries/" + agent.entry.path("id").asText(), entry(agent, uid, 3599));
            if (!rotated.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new TimeoutException(rotated.getCount() + " of " + streams + " streams saw no new serial within " + WAIT_SECONDS + " s");
            }
            agent.figures.put(String.format("rotation: PUT entry until all %,d streams got the new svid", streams),
                    ms(lastRotatedAt.get() - updateStart) + " ms");
            agent.figures.put("  fan-out: first to last stream with the new svid", ms(lastRotatedAt.get() - firstRotatedAt.get()) + " ms");
            agent.figures.put("  agent CPU from the PUT to the last stream", String.format("%.0f ms",
                    (ServerProcesses.cpuMicros(pid) - cpuRotate) / 1e3));
            agent.figures.put("agent VmRSS after the rotation", String.format("%.1f MB", ServerProcesses.rssKib(pid) / 1024.0));
            long failed = open.stream().filter(s -> s.ended.isDone()).count();
            agent.figures.put("streams ended by the agent meanwhile", Long.toString(failed));
        } finally {
            for (SvidStream stream : open) {
                stream.cancel();
            }
            for (ManagedChannel channel : channels) {
                shutdown(channel);
            }
        }
    }

    // ---- clients

    private static ManagedChannel channel(Path socket, EventLoopGroup group) {
        Metadata headers = new Metadata();
        headers.put(SECURITY_HEADER, "true");
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .withOption(ChannelOption.SO_KEEPALIVE, null) // grpc-netty's default; a domain socket has no keep-alive
                .usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
                .build();
    }

    private static void shutdown(ManagedChannel channel) throws InterruptedException {
        if (!channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a workload api channel did not terminate within 10 s");
        }
    }

    /** One FetchX509SVID stream: its first response, and (once {@link #expectSerialOtherThan} is set) the first with another serial. */
    private static final class SvidStream implements ClientResponseObserver<X509SVIDRequest, X509SVIDResponse> {
        final CompletableFuture<X509SVIDResponse> first = new CompletableFuture<>();
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();
        private final CountDownLatch rotated;
        private final AtomicLong firstRotatedAt;
        private final AtomicLong lastRotatedAt;
        volatile BigInteger expectSerialOtherThan;
        private boolean sawNewSerial;
        private ClientCallStreamObserver<X509SVIDRequest> call;

        private SvidStream(CountDownLatch rotated, AtomicLong firstRotatedAt, AtomicLong lastRotatedAt) {
            this.rotated = rotated;
            this.firstRotatedAt = firstRotatedAt;
            this.lastRotatedAt = lastRotatedAt;
        }

        static SvidStream open(ManagedChannel channel) {
            return open(channel, new CountDownLatch(0), new AtomicLong(), new AtomicLong());
        }

        static SvidStream open(ManagedChannel channel, CountDownLatch rotated, AtomicLong firstRotatedAt, AtomicLong lastRotatedAt) {
            SvidStream stream = new SvidStream(rotated, firstRotatedAt, lastRotatedAt);
            SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(), stream);
            return stream;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<X509SVIDRequest> requestStream) {
            this.call = requestStream;
        }

        @Override
        public void onNext(X509SVIDResponse response) {
            if (!first.isDone()) {
                first.complete(response);
            }
            BigInteger old = expectSerialOtherThan;
            if (old != null && !sawNewSerial && response.getSvidsCount() == 1 && !leafSerial(response).equals(old)) {
                sawNewSerial = true;
                long now = System.nanoTime();
                firstRotatedAt.compareAndSet(0, now);
                lastRotatedAt.accumulateAndGet(now, Math::max);
                rotated.countDown();
            }
        }

        @Override
        public void onError(Throwable error) {
            first.completeExceptionally(error);
            if (Status.fromThrowable(error).getCode() != Status.Code.CANCELLED) {
                ended.complete(error);
            }
        }

        @Override
        public void onCompleted() {
            first.completeExceptionally(new IllegalStateException("the agent completed a FetchX509SVID stream"));
            ended.complete(null);
        }

        void cancel() {
            call.cancel("benchmark done", null);
        }
    }

    private static BigInteger serial(X509SVIDResponse response, String spiffeId) {
        if (response.getSvidsCount() != 1 || !response.getSvids(0).getSpiffeId().equals(spiffeId)) {
            throw new IllegalStateException("expected exactly the svid " + spiffeId + ", got "
                    + response.getSvidsList().stream().map(svid -> svid.getSpiffeId()).toList());
        }
        return leafSerial(response);
    }

    private static BigInteger leafSerial(X509SVIDResponse response) {
        try {
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(response.getSvids(0).getX509Svid().toByteArray()));
            return leaf.getSerialNumber();
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalStateException("the svid is not a certificate chain: " + e.getMessage(), e);
        }
    }

    // ---- helpers

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("workload api call failed: " + e.getCause(), e.getCause());
        }
    }

    /** Percentiles of {@code samples} and the agent's CPU time (user + system, 10 ms ticks) per call. */
    private static void printRow(String agent, String label, List<Long> samples, long cpuMicros) {
        long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return;
        }
        System.out.printf("%-10s %-36s %9s %9s %9s %9s %10.0f us%n", agent, label, ms(percentile(sorted, 50)), ms(percentile(sorted, 90)),
                ms(percentile(sorted, 99)), ms(sorted[sorted.length - 1]), cpuMicros / (double) sorted.length);
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return EntryScaleBench.percentile(sorted, p);
    }

    private static String ms(long nanos) {
        return String.format("%.3f", nanos / 1e6);
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0];
        } catch (IOException e) {
            return "?";
        }
    }
}
