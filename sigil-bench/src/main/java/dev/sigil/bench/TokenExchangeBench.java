package dev.sigil.bench;

import dev.sigil.cli.AdminClient;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The token service end to end: RFC 8693 token exchanges over HTTPS on loopback against a full
 * in-process server ({@link SigilServer#start} from a YAML file, embedded SQLite with its durable
 * defaults — WAL, {@code synchronous=FULL} — and the audit trail on, so every exchange commits its
 * token row and its {@code token.exchange} audit record before it answers). A policy applied through
 * the admin API allows {@code spiffe://example.org/web} {@code token:exchange} for {@code https://api}.
 * Subject tokens are JWT-SVIDs for that ID, a pool of {@code --pool} minted before anything is timed
 * and used round-robin. The client is {@link HttpClient} (HTTP/1.1, trusting the server's bundle
 * root, no client certificate); every answer must be 200 with an {@code access_token}.
 *
 * <ol>
 *   <li><b>Sustained throughput</b>: {@code --concurrency} platform threads, each sending exchanges
 *       back to back for {@code --seconds} (after {@code --warmup-seconds} untimed); exchanges/s and
 *       p50/p99 latency.</li>
 *   <li><b>Fixed offered rate</b>, open loop: {@code --rate} requests per second scheduled at fixed
 *       intervals for {@code --seconds}, each sent on its own virtual thread; latency is measured from
 *       the <em>scheduled</em> send time, so queueing behind a slow server is counted.</li>
 *   <li><b>Primitives</b>, one thread, tight loop after warm-up: one {@code PolicyEngine.decide} of the
 *       server's engine with the applied policy, one raw ES256 sign and one verify ({@link Primitives}).</li>
 * </ol>
 *
 * <p>Client and server share this JVM and the machine's cores, so the figures include the client's cost.
 *
 * <p>With {@code --client wrk} (the default when {@code /usr/bin/wrk} exists) the closed loop is also
 * driven by {@link WrkLoad}, a C load generator in its own process, so the server's own throughput and
 * CPU per exchange are visible apart from the JVM client's cost.
 *
 * <p>With {@code --server sqlite|postgresql} it measures a {@code bin/sigil server run} process instead ({@link External}).
 *
 * <p>Usage: {@code TokenExchangeBench [--seconds 20] [--concurrency 16] [--rate 1000] [--pool 1000] [--warmup-seconds 5] [--client wrk|jdk]
 *     [--server in-process|sqlite|postgresql] [--sigil bin/sigil]}
 */
public final class TokenExchangeBench {
    static final String SUBJECT = "spiffe://example.org/web";
    static final String AUDIENCE = "https://api";
    private static final double TARGET_THROUGHPUT = 3_000;
    private static final double TARGET_P99_MS = 20;
    private static final int TARGET_RATE = 1_000;
    /** Open loop: a request scheduled while this many are unanswered is not sent and counts as failed. */
    private static final int MAX_IN_FLIGHT = 2_000;
    /** Open loop: requests on the wire at once (HTTP/1.1 keep-alive connections in the client's pool). */
    private static final int OPEN_CONNECTIONS = 32;
    static final String POLICY = """
            rules:
              - name: web-to-api
                effect: allow
                subject:
                  spiffe_id: %s
                actions: [token:exchange]
                resources: [%s]
            """.formatted(SUBJECT, AUDIENCE);

    private TokenExchangeBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--seconds", "--concurrency", "--rate", "--pool", "--warmup-seconds", "--client",
                "--server", "--sigil"));
        int seconds = options.positiveInt("--seconds", 20);
        int concurrency = options.positiveInt("--concurrency", 16);
        int rate = options.positiveInt("--rate", 1_000);
        int poolSize = options.positiveInt("--pool", 1_000);
        int warmupSeconds = options.positiveInt("--warmup-seconds", 5);
        String clientKind = options.string("--client", WrkLoad.available() ? "wrk" : "jdk");
        boolean missed = false; // the run exits 1 when a target is missed
        if (!clientKind.equals("wrk") && !clientKind.equals("jdk")) {
            throw new IllegalArgumentException("--client is '" + clientKind + "'; expected wrk or jdk");
        }
        // the server's X.509-SVID names a SPIFFE ID, not a host; the chain is still verified against the bundle root
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        Logging.apply("warn");
        String serverKind = options.string("--server", "in-process");
        if (!serverKind.equals("in-process")) {
            Path sigil = Path.of(options.string("--sigil", "bin/sigil")).toAbsolutePath();
            if (!Files.isExecutable(sigil)) {
                throw new IllegalArgumentException("--sigil is '" + sigil + "'; expected bin/sigil of a built checkout");
            }
            ServerProcesses.ready(sigil);
            OptionalInt fixedRate = options.string("--rate", "").isEmpty() ? OptionalInt.empty()
                    : OptionalInt.of(options.positiveInt("--rate", 1));
            if (External.run(sigil, serverKind, concurrency, seconds, warmupSeconds, poolSize, fixedRate)) {
                System.out.println("a target was missed");
                System.exit(1);
            }
            return;
        }

        try (TempDirectory root = TempDirectory.create("sigil-token");
             SigilServer server = startServer(root.path())) {
            try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
                AdminClient.Answer applied = admin.put("/v1/policy", Map.of("yaml", POLICY));
                if (applied.status() / 100 != 2) {
                    throw new IllegalStateException("applying the policy failed: " + applied.status() + " " + applied.body());
                }
            }
            String[] bodies = new String[poolSize];
            for (int i = 0; i < poolSize; i++) {
                String token = server.authority().mintJwtSvid(SpiffeId.parse(SUBJECT), Audience.of(server.tokenAudience()),
                        Duration.ofMinutes(10)).token();
                bodies[i] = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                        + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt")
                        + "&subject_token=" + enc(token) + "&audience=" + enc(AUDIENCE);
            }
            URI uri = URI.create("https://127.0.0.1:" + server.tokenEndpointAddress().orElseThrow().getPort() + "/oauth2/token");
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(trusting(server.authority().bundle().x509Authorities())).connectTimeout(Duration.ofSeconds(10)).build();
            Exchanger exchanger = new Exchanger(client, uri, bodies);
            System.out.printf("server in this JVM (pid %d), data in %s; token endpoint %s; %d cores; %,d subject tokens pre-minted%n",
                    ProcessHandle.current().pid(), root.path(), uri, Runtime.getRuntime().availableProcessors(), poolSize);

            // 3. primitives first, on an idle server (measured before the load so the JIT state of the load does not matter)
            PolicyEngine engine = server.policyEngine();
            PolicyRequest request = new PolicyRequest(SpiffeId.parse(SUBJECT), Set.of(), 0, Optional.empty(), "token:exchange",
                    AUDIENCE, List.of(), Optional.empty(), List.of(), Instant.now(), Map.of());
            if (!(engine.decide(request) instanceof Decision.Allow)) {
                throw new IllegalStateException("the applied policy does not allow the request: " + engine.decide(request));
            }
            Primitives primitives = new Primitives();
            double decideNs = nsPerOp(() -> engine.decide(request) instanceof Decision.Allow ? 1 : 0);
            double signNs = nsPerOp(() -> primitives.sign().length);
            double verifyNs = nsPerOp(() -> primitives.verify() ? 1 : 0);
            SunEcVerify sunEc = new SunEcVerify();
            double sunEcVerifyNs = nsPerOp(() -> sunEc.verify() ? 1 : 0);

            // 1. sustained throughput, closed loop
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            if (clientKind.equals("wrk")) {
                WrkLoad.run(uri, "/oauth2/token", bodies, concurrency, warmupSeconds, root.path());
                long serverCpuBefore = os.getProcessCpuTime();
                WrkLoad.Result wrk = WrkLoad.run(uri, "/oauth2/token", bodies, concurrency, seconds, root.path());
                missed |= !(wrk.perSecond() >= TARGET_THROUGHPUT && wrk.non2xx() == 0);
                long serverCpu = os.getProcessCpuTime() - serverCpuBefore;
                System.out.printf("%n%-62s %12s %s%n", "token exchange over HTTPS, audit on (SQLite synchronous=FULL)", "value", "");
                row(String.format("1. closed loop, wrk %d connections, %d s: exchanges/s", concurrency, seconds),
                        String.format("%,.0f", wrk.perSecond()), String.format("(target >= %,.0f: %s)", TARGET_THROUGHPUT,
                                wrk.perSecond() >= TARGET_THROUGHPUT && wrk.non2xx() == 0 ? "met" : "NOT met"));
                row("   exchanges completed / non-2xx / socket errors", String.format("%,d / %d / %d", wrk.requests(), wrk.non2xx(),
                        wrk.socketErrors()), "");
                row("   latency p50", String.format("%.3f", wrk.p50Micros() / 1000), "ms");
                row("   latency p99", String.format("%.3f", wrk.p99Micros() / 1000), "ms");
                row("   latency max", String.format("%.3f", wrk.maxMicros() / 1000), "ms");
                row("   server CPU time per exchange", String.format("%,.0f", serverCpu / (double) wrk.requests()),
                        String.format("ns (server JVM only; it used %.2f of %d cores, wrk the rest)", serverCpu / 1e9 / wrk.seconds(),
                                Runtime.getRuntime().availableProcessors()));
            }
            closedLoop(exchanger, concurrency, Duration.ofSeconds(warmupSeconds));
            long cpuBefore = os.getProcessCpuTime();
            Closed closed = closedLoop(exchanger, concurrency, Duration.ofSeconds(seconds));
            long cpuNanos = os.getProcessCpuTime() - cpuBefore;

            double throughput = closed.count / closed.seconds;
            if (clientKind.equals("jdk")) { // with wrk, the in-JVM client's figure is for comparison only
                missed |= throughput < TARGET_THROUGHPUT;
            }
            if (clientKind.equals("jdk")) {
                System.out.printf("%n%-62s %12s %s%n", "token exchange over HTTPS, audit on (SQLite synchronous=FULL)", "value", "");
            }
            row(String.format("1%s. closed loop, JDK HttpClient in this JVM, %d threads, %d s: exchanges/s", clientKind.equals("wrk") ? "b" : "",
                    concurrency, seconds), String.format("%,.0f", throughput),
                    String.format("(target >= %,.0f: %s)", TARGET_THROUGHPUT, throughput >= TARGET_THROUGHPUT ? "met" : "NOT met"));
            row("   exchanges completed (all 200 with an access_token)", String.format("%,d", closed.count), "");
            row("   latency p50", ms(closed.sorted, 50), "ms");
            row("   latency p99", ms(closed.sorted, 99), "ms");
            row("   latency max", String.format("%.3f", closed.sorted[closed.sorted.length - 1] / 1e6), "ms");

            // 2. fixed offered rate, open loop
            Open open = openLoop(exchanger, rate, seconds);
            int offered = rate * seconds;
            // a failed request counts as slower than every answered one
            long[] withFailures = Arrays.copyOf(open.sorted, offered);
            Arrays.fill(withFailures, open.sorted.length, offered, Long.MAX_VALUE);
            long p99Nanos = percentile(withFailures, 99);
            double p99 = p99Nanos / 1e6;
            if (rate == TARGET_RATE) {
                missed |= !(p99 <= TARGET_P99_MS);
            }
            row(String.format("2. open loop, %,d/s offered for %d s: answered/s", rate, seconds),
                    String.format("%,.0f", open.sorted.length / open.seconds), "");
            row("   requests failed or not sent", String.format("%,d", open.failed), open.failed == 0 ? ""
                    : "of " + String.format("%,d", offered) + " (first: " + open.firstFailure + ")");
            row("   latency p50 (from scheduled send time)", msOrFailed(percentile(withFailures, 50)), "ms");
            row("   latency p99 (from scheduled send time)", msOrFailed(p99Nanos),
                    rate == TARGET_RATE ? String.format("ms (target <= %.0f at %,d/s: %s)", TARGET_P99_MS, TARGET_RATE, p99 <= TARGET_P99_MS ? "met" : "NOT met")
                            : String.format("ms (the target, p99 <= %.0f ms, is for %,d/s)", TARGET_P99_MS, TARGET_RATE));
            row("   latency max of the answered", open.sorted.length == 0 ? "-" : String.format("%.3f", open.sorted[open.sorted.length - 1] / 1e6), "ms");
            row("   scheduler lag max (send started late)", String.format("%.3f", open.maxLagNanos / 1e6), "ms");
            row("3. PolicyEngine.decide (applied policy, one rule)", String.format("%,.0f", decideNs), "ns/op");
            row("   ES256 sign (raw SHA256withECDSA P-256)", String.format("%,.0f", signNs), "ns/op");
            row("   ES256 verify", String.format("%,.0f", verifyNs), "ns/op");
            row("   ES256 verify via JDK SunEC (for comparison)", String.format("%,.0f", sunEcVerifyNs), "ns/op");
            row("   verify + decide + sign", String.format("%,.0f", verifyNs + decideNs + signNs), "ns/op");
            row("   process CPU time per exchange in the closed loop", String.format("%,.0f", cpuNanos / (double) closed.count),
                    String.format("ns (client + server; the JVM used %.2f of %d cores)", cpuNanos / 1e9 / closed.seconds,
                            Runtime.getRuntime().availableProcessors()));
        }
        if (missed) {
            System.out.println("a target was missed");
            System.exit(1);
        }
    }

    static String msOrFailed(long nanos) {
        return nanos == Long.MAX_VALUE ? "failed" : String.format("%.3f", nanos / 1e6);
    }

    private static SigilServer startServer(Path root) throws IOException {
        Path file = root.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(root.resolve("server")));
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root), ConfigOverrides.none()));
    }

    static SSLContext trusting(List<X509Certificate> roots) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root-" + i, roots.get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Sends one exchange at a time per caller, round-robin over the pre-minted subject tokens, and checks the answer. */
    record Exchanger(HttpClient client, URI uri, String[] bodies, AtomicLong next) {
        Exchanger(HttpClient client, URI uri, String[] bodies) {
            this(client, uri, bodies, new AtomicLong());
        }

        void exchange() throws IOException, InterruptedException {
            String body = bodies[(int) (next.getAndIncrement() % bodies.length)];
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200 || !response.body().contains("\"access_token\"")) {
                throw new IllegalStateException("exchange answered " + response.statusCode() + ": " + response.body());
            }
        }
    }

    record Closed(long count, double seconds, long[] sorted) {}

    static Closed closedLoop(Exchanger exchanger, int threads, Duration duration) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<LongList> latencies = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            LongList mine = new LongList();
            latencies.add(mine);
            workers.add(Thread.ofPlatform().name("exchange-" + t).start(() -> {
                try {
                    while (failure.get() == null) {
                        long before = System.nanoTime();
                        if (before >= end) {
                            return;
                        }
                        exchanger.exchange();
                        mine.add(System.nanoTime() - before);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) {
            throw new IllegalStateException("an exchange failed: " + failure.get(), failure.get());
        }
        long[] all = LongList.concat(latencies);
        Arrays.sort(all);
        return new Closed(all.length, seconds, all);
    }

    /** Latencies of the answered requests (sorted), failures (including requests not sent because too many were in flight). */
    record Open(double seconds, long[] sorted, long maxLagNanos, int failed, String firstFailure) {}

    static Open openLoop(Exchanger exchanger, int rate, int seconds) {
        int total = rate * seconds;
        long interval = 1_000_000_000L / rate;
        long[] latencies = new long[total];
        Arrays.fill(latencies, -1);
        AtomicReference<String> firstFailure = new AtomicReference<>();
        AtomicLong failed = new AtomicLong();
        AtomicLong inFlight = new AtomicLong();
        java.util.concurrent.Semaphore connections = new java.util.concurrent.Semaphore(OPEN_CONNECTIONS);
        long maxLag = 0;
        long start = System.nanoTime() + 10_000_000;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < total; i++) {
                long scheduled = start + i * interval;
                long now;
                while ((now = System.nanoTime()) < scheduled) {
                    LockSupport.parkNanos(scheduled - now);
                }
                maxLag = Math.max(maxLag, now - scheduled);
                if (inFlight.get() >= MAX_IN_FLIGHT) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, "not sent: " + MAX_IN_FLIGHT + " requests already in flight");
                    continue;
                }
                inFlight.incrementAndGet();
                int slot = i;
                executor.execute(() -> {
                    // At most OPEN_CONNECTIONS requests on the wire (the client's connection pool stays
                    // warm instead of opening a TLS connection per queued request); waiting for a free
                    // connection counts in the latency, measured from the scheduled send time.
                    connections.acquireUninterruptibly();
                    try {
                        exchanger.exchange();
                        latencies[slot] = System.nanoTime() - scheduled;
                    } catch (Throwable e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    } finally {
                        connections.release();
                        inFlight.decrementAndGet();
                    }
                });
            }
        } // waits for every request
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] answered = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        return new Open(elapsed, answered, maxLag, (int) failed.get(), firstFailure.get());
    }

    /** One SHA256withECDSA P-256 verify through the JDK's own SunEC provider, as the JCA default chain gives it to nimbus-jose. */
    private static final class SunEcVerify {
        private final java.security.PublicKey key;
        private final byte[] message = new byte[256];
        private final byte[] signature;

        SunEcVerify() throws GeneralSecurityException {
            java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC", "SunEC");
            generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            java.security.KeyPair pair = generator.generateKeyPair();
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA", "SunEC");
            s.initSign(pair.getPrivate());
            s.update(message);
            signature = s.sign();
            key = pair.getPublic();
        }

        boolean verify() throws GeneralSecurityException {
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA", "SunEC");
            s.initVerify(key);
            s.update(message);
            return s.verify(signature);
        }
    }

    @FunctionalInterface
    private interface Op {
        int run() throws Exception;
    }

    /** Average ns per call over a 2 s tight loop after a 1 s warm-up; the results are consumed so the loop is not removed. */
    private static double nsPerOp(Op op) throws Exception {
        long sink = 0;
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            for (int i = 0; i < 100; i++) {
                sink += op.run();
            }
        }
        long ops = 0;
        long start = System.nanoTime();
        long end = start + 2_000_000_000L;
        long now;
        do {
            for (int i = 0; i < 100; i++) {
                sink += op.run();
            }
            ops += 100;
        } while ((now = System.nanoTime()) < end);
        if (sink == Long.MIN_VALUE) {
            System.out.println(sink);
        }
        return (now - start) / (double) ops;
    }

    static long percentile(long[] sorted, int p) {
        return EntryScaleBench.percentile(sorted, p);
    }

    private static String ms(long[] sorted, int p) {
        return String.format("%.3f", percentile(sorted, p) / 1e6);
    }

    static void row(String label, String value, String unit) {
        System.out.printf("%-62s %12s %s%n", label, value, unit);
    }

    /** A growable list of longs, one per worker thread. */
    private static final class LongList {
        private long[] values = new long[1 << 14];
        private int size;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        static long[] concat(List<LongList> lists) {
            long[] all = new long[lists.stream().mapToInt(l -> l.size).sum()];
            int at = 0;
            for (LongList list : lists) {
                System.arraycopy(list.values, 0, all, at, list.size);
                at += list.size;
            }
            return all;
        }
    }
}
