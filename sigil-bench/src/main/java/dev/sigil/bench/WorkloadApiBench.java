package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.agent.Agent;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.cache.SvidCache;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.cli.AdminClient;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
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
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The agent's SPIFFE Workload API under load, with the real server and agent in this process: the
 * server on a fresh data directory (embedded SQLite, loopback agent API), an agent attested with a
 * join token ({@link AgentRuntime}, sync interval 1 s), and gRPC clients on the agent's Unix socket
 * (grpc-netty, epoll domain sockets, the {@code workload.spiffe.io} header), as real workloads talk to it.
 * The one workload entry matches this JVM's own uid ({@code unix:uid:<uid>}).
 *
 * <ol>
 *   <li><b>First-response latency</b>, warm cache: {@code --calls} sequential FetchX509SVID calls (each
 *       opens the stream, waits for the first response, cancels) after {@code --warmup} untimed ones,
 *       on one reused channel; then {@code --connect-calls} calls that each also open a new connection
 *       (channel build to first response; closing is not timed).</li>
 *   <li><b>Open streams</b>: {@code --streams} FetchX509SVID streams spread over {@code --channels}
 *       channels, all waiting for their first response; the JVM's resident set (VmRSS, which includes
 *       the server) before and after. Then the entry is updated ({@code PUT /v1/entries/{id}} with a new
 *       {@code x509_svid_ttl}), which makes the agent re-sign its SVID at its next sync; timed from the
 *       update request until every stream has received a certificate with a new serial. All streams
 *       are then cancelled and the agent is checked to hold no stream listener.</li>
 *   <li><b>Entry sync</b>: a second agent's join token is issued, {@code --entries} entries parented to
 *       that agent are created in batches of 500 <em>before</em> it starts, then the agent
 *       ({@link Agent}: attestation, sync, signing; no Workload API) is started and timed to in-sync
 *       (its cache holds every entry and has synced) and to every SVID signed.</li>
 * </ol>
 *
 * <p>Usage: {@code WorkloadApiBench [--calls 10000] [--warmup 1000] [--connect-calls 1000] [--streams 1000]
 * [--channels 10] [--entries 10000]}
 */
public final class WorkloadApiBench {
    private static final String TRUST_DOMAIN = "bench.test";
    private static final Duration SYNC_INTERVAL = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int BATCH = 500;
    private static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    private WorkloadApiBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--calls", "--warmup", "--connect-calls", "--streams", "--channels", "--entries"));
        int calls = options.positiveInt("--calls", 10_000);
        int warmup = options.positiveInt("--warmup", 1_000);
        int connectCalls = options.positiveInt("--connect-calls", 1_000);
        int streams = options.positiveInt("--streams", 1_000);
        int channels = Math.min(streams, options.positiveInt("--channels", 10));
        int entries = options.positiveInt("--entries", 10_000);
        Logging.apply("warn");
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();

        List<String[]> latencies = new ArrayList<>();
        List<Figure> figures = new ArrayList<>();
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        try (TempDirectory root = TempDirectory.create("sigil-wlapi");
             SigilServer server = startServer(root.path());
             AdminClient admin = new AdminClient(server.admin().socketPath())) {
            Path bundle = root.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            System.out.printf("server and agent in this JVM (pid %d, uid %d), data in %s; agent sync interval %d s%n%n",
                    ProcessHandle.current().pid(), uid, root.path(), SYNC_INTERVAL.toSeconds());

            String[] token = joinToken(admin);
            String agentId = agentId(token[1]);
            String workloadId = "spiffe://" + TRUST_DOMAIN + "/bench/workload";
            JsonNode entry = admin.post("/v1/entries", workloadEntry(workloadId, agentId, uid, 3600)).json();
            try (AgentRuntime agent = AgentRuntime.start(agentConfig(root.resolve("agent"), server, bundle, token[0],
                    root.resolve("agent/public/api.sock")), Clock.systemUTC())) {
                await("the agent holds the workload's svid", () -> agent.agent().identities().synced()
                        && agent.agent().cache().identityCount() == 1);
                String socket = agent.workloadApiSocket().toString();

                // 1. first-response latency
                ManagedChannel channel = channel(socket, clientGroup);
                try {
                    for (int i = 0; i < warmup; i++) {
                        firstResponseNanos(channel, workloadId);
                    }
                    long[] nanos = new long[calls];
                    for (int i = 0; i < calls; i++) {
                        nanos[i] = firstResponseNanos(channel, workloadId);
                    }
                    latencies.add(latencyRow(String.format("first response, one reused channel (%,d calls)", calls), nanos));
                } finally {
                    shutdown(channel);
                }
                for (int i = 0; i < Math.max(10, connectCalls / 10); i++) {
                    newConnectionNanos(socket, clientGroup, workloadId);
                }
                long[] connectNanos = new long[connectCalls];
                for (int i = 0; i < connectCalls; i++) {
                    connectNanos[i] = newConnectionNanos(socket, clientGroup, workloadId);
                }
                latencies.add(latencyRow(String.format("first response, new connection per call (%,d calls)", connectCalls), connectNanos));

                // 2. open streams, then a rotation pushed to all of them
                figures.addAll(openStreams(admin, agent.agent().cache(), socket, clientGroup, entry, workloadId, agentId, uid,
                        streams, channels));
            }

            // 3. entry sync
            figures.addAll(entrySync(admin, server, bundle, root.resolve("sync-agent"), entries));
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }

        System.out.printf("%n%-56s %9s %9s %9s %9s%n", "FetchX509SVID, warm cache", "p50 ms", "p90 ms", "p99 ms", "max ms");
        for (String[] row : latencies) {
            System.out.printf("%-56s %9s %9s %9s %9s%n", (Object[]) row);
        }
        System.out.printf("%n%-66s %12s%n", "streams, rotation, entry sync", "value");
        for (Figure figure : figures) {
            if (figure.value().isEmpty()) {
                System.out.println(figure.label());
            } else {
                System.out.printf("%-66s %12s %s%n", figure.label(), figure.value(), figure.unit());
            }
        }
    }

    // ---- setup

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

    /** A new join token: {secret, id}. */
    private static String[] joinToken(AdminClient admin) {
        JsonNode issued = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
        return new String[] {issued.path("token").asText(), issued.path("id").asText()};
    }

    private static String agentId(String tokenId) {
        return "spiffe://" + TRUST_DOMAIN + "/sigil/agent/join_token/" + tokenId;
    }

    private static Map<String, Object> workloadEntry(String spiffeId, String parentId, long uid, int x509TtlSeconds) {
        return Map.of("spiffe_id", spiffeId, "parent_id", parentId,
                "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "bench",
                "x509_svid_ttl", x509TtlSeconds);
    }

    private static AgentConfig agentConfig(Path dataDir, SigilServer server, Path bundle, String token, Path socket) throws IOException {
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        return new AgentConfig(dataDir, new TrustDomain(TRUST_DOMAIN),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token),
                socket, SYNC_INTERVAL, AgentConfig.LogLevel.WARN);
    }

    // ---- workload api clients

    private static ManagedChannel channel(String socket, EventLoopGroup group) {
        Metadata headers = new Metadata();
        headers.put(SECURITY_HEADER, "true");
        ClientInterceptor header = MetadataUtils.newAttachHeadersInterceptor(headers);
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .withOption(ChannelOption.SO_KEEPALIVE, null) // grpc-netty's default; a domain socket has no keep-alive
                .usePlaintext()
                .intercept(header)
                .build();
    }

    private static void shutdown(ManagedChannel channel) throws InterruptedException {
        if (!channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a workload api channel did not terminate within 10 s");
        }
    }

    /**
     * One FetchX509SVID stream: records the first response's arrival, and (once {@link #expectSerialOtherThan}
     * is set) the arrival of the first response carrying another serial.
     */
    private static final class SvidStream implements ClientResponseObserver<X509SVIDRequest, X509SVIDResponse> {
        final CompletableFuture<X509SVIDResponse> first = new CompletableFuture<>();
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();
        private final String spiffeId;
        private final CountDownLatch rotated;
        private final AtomicLong firstRotatedAt;
        private final AtomicLong lastRotatedAt;
        private final AtomicReference<BigInteger> expectSerialOtherThan = new AtomicReference<>();
        private volatile boolean sawNewSerial;
        private ClientCallStreamObserver<X509SVIDRequest> call;

        SvidStream(String spiffeId, CountDownLatch rotated, AtomicLong firstRotatedAt, AtomicLong lastRotatedAt) {
            this.spiffeId = spiffeId;
            this.rotated = rotated;
            this.firstRotatedAt = firstRotatedAt;
            this.lastRotatedAt = lastRotatedAt;
        }

        static SvidStream open(ManagedChannel channel, String spiffeId) {
            return open(channel, spiffeId, new CountDownLatch(0), new AtomicLong(), new AtomicLong());
        }

        static SvidStream open(ManagedChannel channel, String spiffeId, CountDownLatch rotated, AtomicLong firstRotatedAt,
                               AtomicLong lastRotatedAt) {
            SvidStream stream = new SvidStream(spiffeId, rotated, firstRotatedAt, lastRotatedAt);
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
            BigInteger old = expectSerialOtherThan.get();
            if (old != null && !sawNewSerial && !serial(response, spiffeId).equals(old)) {
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
            ended.complete(error);
        }

        @Override
        public void onCompleted() {
            first.completeExceptionally(new IllegalStateException("the server completed a FetchX509SVID stream"));
            ended.complete(null);
        }

        void cancel() {
            call.cancel("benchmark done", null);
        }
    }

    /** Opens a stream, waits for its first response (checked), cancels it; returns open-to-first-response. */
    private static long firstResponseNanos(ManagedChannel channel, String spiffeId) throws Exception {
        long start = System.nanoTime();
        SvidStream stream = SvidStream.open(channel, spiffeId);
        X509SVIDResponse response = get(stream.first);
        long elapsed = System.nanoTime() - start;
        stream.cancel();
        serial(response, spiffeId);
        return elapsed;
    }

    private static long newConnectionNanos(String socket, EventLoopGroup group, String spiffeId) throws Exception {
        long start = System.nanoTime();
        ManagedChannel channel = channel(socket, group);
        try {
            SvidStream stream = SvidStream.open(channel, spiffeId);
            X509SVIDResponse response = get(stream.first);
            long elapsed = System.nanoTime() - start;
            serial(response, spiffeId);
            return elapsed;
        } finally {
            shutdown(channel);
        }
    }

    /** The serial of the response's SVID for {@code spiffeId} (the leaf, first in its DER chain). */
    private static BigInteger serial(X509SVIDResponse response, String spiffeId) {
        if (response.getSvidsCount() != 1 || !response.getSvids(0).getSpiffeId().equals(spiffeId)) {
            throw new IllegalStateException("expected exactly the svid " + spiffeId + ", got " + response.getSvidsList().stream()
                    .map(svid -> svid.getSpiffeId()).toList());
        }
        try {
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(response.getSvids(0).getX509Svid().toByteArray()));
            return leaf.getSerialNumber();
        } catch (CertificateException e) {
            throw new IllegalStateException("the svid is not a certificate chain: " + e.getMessage(), e);
        }
    }

    // ---- 2. open streams and rotation

    private static List<Figure> openStreams(AdminClient admin, SvidCache cache, String socket, EventLoopGroup group, JsonNode entry,
                                              String workloadId, String agentId, long uid, int streams, int channelCount)
            throws Exception {
        // cancelled latency calls unregister asynchronously on the agent; start from none
        await("the agent drops the streams of the latency calls", () -> listeners(cache) == 0);
        int baseListeners = 0;
        Memory before = Memory.settled();
        CountDownLatch rotated = new CountDownLatch(streams);
        AtomicLong firstRotatedAt = new AtomicLong();
        AtomicLong lastRotatedAt = new AtomicLong();
        List<ManagedChannel> channels = new ArrayList<>();
        List<SvidStream> open = new ArrayList<>(streams);
        List<Figure> rows = new ArrayList<>();
        try {
            for (int i = 0; i < channelCount; i++) {
                channels.add(channel(socket, group));
            }
            long start = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                open.add(SvidStream.open(channels.get(i % channelCount), workloadId, rotated, firstRotatedAt, lastRotatedAt));
            }
            BigInteger serial = null;
            for (SvidStream stream : open) {
                BigInteger s = serial(get(stream.first), workloadId);
                if (serial != null && !serial.equals(s)) {
                    throw new IllegalStateException("streams received different serials before the rotation");
                }
                serial = s;
            }
            long allFirst = System.nanoTime() - start;
            Memory after = Memory.settled();
            int listening = listeners(cache) - baseListeners;
            if (listening != streams) {
                throw new IllegalStateException("the agent has " + listening + " stream listeners, expected " + streams);
            }
            rows.add(millis(String.format("%,d streams on %d channels: open to all first responses", streams, channelCount), allFirst));
            rows.add(megabytes("JVM VmRSS before opening them (server + agent + clients)", before.rss()));
            rows.add(megabytes("JVM VmRSS with all streams open", after.rss()));
            rows.add(perStream(before.rss(), after.rss(), streams));
            rows.add(megabytes("  of it Java heap committed, before", before.heapCommitted()));
            rows.add(megabytes("  of it Java heap committed, streams open", after.heapCommitted()));
            if (before.heapCommitted() != after.heapCommitted()) {
                rows.add(new Figure("  (the heap was resized in between, so the VmRSS difference is mostly heap sizing;\n"
                        + "   for the streams' own cost run with -Xms equal to -Xmx and -XX:+AlwaysPreTouch)", "", ""));
            }
            rows.add(megabytes("Java heap live (used after full GC), before", before.heapUsed()));
            rows.add(megabytes("Java heap live (used after full GC), streams open", after.heapUsed()));
            rows.add(perStream(before.heapUsed(), after.heapUsed(), streams));

            for (SvidStream stream : open) {
                stream.expectSerialOtherThan.set(serial);
            }
            String entryId = entry.path("id").asText();
            long updateStart = System.nanoTime();
            admin.put("/v1/entries/" + entryId, workloadEntry(workloadId, agentId, uid, 3599));
            long updated = System.nanoTime();
            if (!rotated.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                throw new TimeoutException(rotated.getCount() + " of " + streams + " streams saw no new serial within " + WAIT.toSeconds() + " s");
            }
            rows.add(millis(String.format("rotation: PUT entry until all %,d streams got a new serial", streams),
                    lastRotatedAt.get() - updateStart));
            rows.add(millis("  of which the PUT request itself", updated - updateStart));
            rows.add(millis("  first to last stream with the new serial (fan-out)", lastRotatedAt.get() - firstRotatedAt.get()));
        } finally {
            for (SvidStream stream : open) {
                stream.cancel();
            }
            for (ManagedChannel channel : channels) {
                shutdown(channel);
            }
        }
        for (SvidStream stream : open) {
            get(stream.ended);
        }
        await("the agent drops every stream listener", () -> listeners(cache) == baseListeners);
        rows.add(new Figure("streams left open on the agent after cancelling all", Integer.toString(listeners(cache) - baseListeners), ""));
        return rows;
    }

    /**
     * The change listeners registered on the agent's cache: one per open Workload API stream (the
     * stream publisher registers on open and unregisters on cancel). Read reflectively; the cache has
     * no public counter for them.
     */
    private static int listeners(SvidCache cache) {
        try {
            var field = SvidCache.class.getDeclaredField("listeners");
            field.setAccessible(true);
            return ((List<?>) field.get(cache)).size();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot count the cache's listeners: " + e, e);
        }
    }

    /** Memory of this JVM (kilobytes) after two requested full collections: resident set, heap in use and committed. */
    private record Memory(long rss, long heapUsed, long heapCommitted) {
        static Memory settled() throws IOException {
            System.gc();
            System.gc();
            MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            return new Memory(rssKilobytes(), heap.getUsed() / 1024, heap.getCommitted() / 1024);
        }
    }

    private static Figure megabytes(String label, long kilobytes) {
        return new Figure(label, String.format("%.1f", kilobytes / 1024.0), "MB");
    }

    private static Figure perStream(long beforeKilobytes, long afterKilobytes, int streams) {
        return new Figure("    difference per stream", String.format("%.1f", (afterKilobytes - beforeKilobytes) / (double) streams), "KB");
    }

    /** This JVM's resident set size: server, agent and benchmark clients together. */
    private static long rssKilobytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    // ---- 3. entry sync

    private static List<Figure> entrySync(AdminClient admin, SigilServer server, Path bundle, Path dataDir, int entries)
            throws Exception {
        String[] token = joinToken(admin);
        String agentId = agentId(token[1]);
        long createStart = System.nanoTime();
        for (int from = 0; from < entries; from += BATCH) {
            List<Map<String, Object>> batch = new ArrayList<>();
            for (int n = from; n < Math.min(entries, from + BATCH); n++) {
                batch.add(Map.of("spiffe_id", "spiffe://" + TRUST_DOMAIN + "/sync/" + n, "parent_id", agentId,
                        "selectors", List.of(Map.of("type", "unix", "value", "uid:" + (100_000 + n))), "owner", "bench"));
            }
            for (JsonNode result : admin.post("/v1/entries/batch", Map.of("entries", batch)).json().path("results")) {
                if (result.has("error")) {
                    throw new IllegalStateException("entry batch failed: " + result.path("error"));
                }
            }
        }
        long created = System.nanoTime() - createStart;

        AgentConfig config = agentConfig(dataDir, server, bundle, token[0], dataDir.resolve("public/api.sock"));
        AtomicLong inSyncAt = new AtomicLong();
        AtomicLong allSignedAt = new AtomicLong();
        try (Agent agent = new Agent(config, new JoinTokenAttestorClient(token[0]), Clock.systemUTC());
             AutoCloseable watch = agent.cache().onChange(() -> {
                 SvidCache cache = agent.cache();
                 long now = System.nanoTime();
                 if (cache.synced() && cache.entryCount() == entries) {
                     inSyncAt.compareAndSet(0, now);
                 }
                 if (cache.identityCount() == entries) {
                     allSignedAt.compareAndSet(0, now);
                 }
             })) {
            long start = System.nanoTime();
            agent.start();
            long started = System.nanoTime();
            await("the agent signs every entry's svid", () -> allSignedAt.get() != 0);
            if (!(agent.state() instanceof AgentState.Running)) {
                throw new IllegalStateException("the sync agent is not running: " + agent.state());
            }
            List<Figure> rows = new ArrayList<>();
            rows.add(millis(String.format("%,d entries created via admin api (batches of %d), agent not running", entries, BATCH), created));
            rows.add(millis("agent start to in sync (every entry held, synced)", inSyncAt.get() - start));
            rows.add(millis("agent start to every x509-svid signed", allSignedAt.get() - start));
            rows.add(millis("  Agent.start() returned (attestation, first sync, signing)", started - start));
            return rows;
        }
    }

    // ---- helpers

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("workload api call failed: " + e.getCause(), e.getCause());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("timed out after " + WAIT.toSeconds() + " s waiting until " + what);
            }
            Thread.sleep(1);
        }
    }

    private static String[] latencyRow(String label, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new String[] {label, nanosToMs(EntryScaleBench.percentile(sorted, 50)), nanosToMs(EntryScaleBench.percentile(sorted, 90)),
                nanosToMs(EntryScaleBench.percentile(sorted, 99)), nanosToMs(sorted[sorted.length - 1])};
    }

    /** One measured figure of the second table. */
    private record Figure(String label, String value, String unit) {}

    private static Figure millis(String label, long nanos) {
        return new Figure(label, nanosToMs(nanos), "ms");
    }

    private static String nanosToMs(long nanos) {
        return String.format("%.3f", nanos / 1e6);
    }
}
