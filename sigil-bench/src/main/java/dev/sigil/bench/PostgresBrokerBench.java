package dev.sigil.bench;

import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.postgresql.PostgresBroker;
import dev.sigil.server.credential.postgresql.PostgresBrokerSettings;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import org.postgresql.util.PasswordUtil;

/**
 * The {@code postgresql} credential broker against its own loopback PostgreSQL (started from the
 * machine's binaries by the testkit, fsync off, deleted afterwards), set up as the docs say: a
 * non-superuser admin role with {@code CREATEROLE}, one resource whose leases join a read-only group.
 *
 * <ol>
 *   <li><b>Issuance</b>: {@code --grants} sequential {@code grant} calls (after {@code --warmup}
 *       untimed), each timed end to end; p50/p99, and the share of the time spent in database round
 *       trips, measured inside the broker by its {@link PostgresBroker.RoundTripListener} (statement
 *       batch and commit; the pool checkout is not a round trip). The rest is mostly the client-side
 *       SCRAM-SHA-256 verifier (PBKDF2, as many iterations as the broker), timed on its own for comparison.</li>
 *   <li><b>Revocation</b>: for each thread count in {@code --revoke-threads}, {@code --revokes} leases
 *       are granted (untimed), then revoked by that many worker threads sharing the broker (its pool
 *       has 4 admin connections); total time and leases/s. {@code granted()} must be empty afterwards.
 *       No lease has a live session here, so termination finds nothing to wait for.</li>
 * </ol>
 */
public final class PostgresBrokerBench {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://bench.test/billing/report-job");
    static final String ADMIN_PASSWORD = "bench-admin-password";

    /** Round-trip time of the current grant, added up by the broker's timing hook on the calling thread. */
    private static final ThreadLocal<long[]> ROUND_TRIPS = ThreadLocal.withInitial(() -> new long[2]);

    /** Time and count per round-trip step, reset before each part. */
    private static final Map<String, LongAdder[]> STEPS = new ConcurrentSkipListMap<>();

    private PostgresBrokerBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--grants", "--warmup", "--revokes", "--revoke-threads"));
        int grants = options.positiveInt("--grants", 500);
        int warmup = options.positiveInt("--warmup", 200);
        int revokes = options.positiveInt("--revokes", 1000);
        int[] threads = Arrays.stream(options.string("--revoke-threads", "1,4").split(",")).mapToInt(Integer::parseInt).toArray();
        Logging.apply("warn");

        try (PostgresServer server = PostgresServer.start()) {
            PostgresServer.Database database = server.createDatabase();
            setUp(database);
            PostgresBrokerSettings settings = new PostgresBrokerSettings(database.jdbcUrl(), "sigil_broker", ADMIN_PASSWORD,
                    "sigil_", Map.of("reports", new PostgresBrokerSettings.Resource(List.of("reports_read"), 5)));
            PostgresBroker.RoundTripListener timing = (step, nanos) -> {
                long[] sums = ROUND_TRIPS.get();
                sums[0] += nanos;
                sums[1]++;
                STEPS.computeIfAbsent(step, ignored -> new LongAdder[] {new LongAdder(), new LongAdder()})[0].add(nanos);
                STEPS.get(step)[1].increment();
            };
            try (PostgresBroker broker = PostgresBroker.create(settings, Clock.systemUTC(), timing)) {
                System.out.printf("postgresql broker on a loopback PostgreSQL %s, database %s%n%n", serverVersion(database), database.name());
                issuance(broker, warmup, grants);
                for (int count : threads) {
                    revocation(broker, revokes, count);
                }
            }
        }
    }

    private static void issuance(PostgresBroker broker, int warmup, int grants) {
        List<LeaseGrant> issued = new ArrayList<>();
        for (int i = 0; i < warmup; i++) {
            LeaseGrant lease = lease();
            broker.grant(lease);
            issued.add(lease);
        }
        STEPS.clear();
        long[] total = new long[grants];
        long[] database = new long[grants];
        long roundTrips = 0;
        for (int i = 0; i < grants; i++) {
            LeaseGrant lease = lease();
            long[] sums = ROUND_TRIPS.get();
            sums[0] = 0;
            sums[1] = 0;
            long start = System.nanoTime();
            Granted granted = broker.grant(lease);
            total[i] = System.nanoTime() - start;
            database[i] = sums[0];
            roundTrips += sums[1];
            if (!granted.details().containsKey("role")) {
                throw new IllegalStateException("grant " + i + " returned no role");
            }
            issued.add(lease);
        }
        long scram = scramVerifierNanos(200);
        double share = (double) Arrays.stream(database).sum() / Arrays.stream(total).sum();
        Arrays.sort(total);
        Arrays.sort(database);
        System.out.printf("1. issuance, %d sequential grants after %d untimed%n", grants, warmup);
        System.out.printf("   grant latency   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms%n",
                ms(EntryScaleBench.percentile(total, 50)), ms(EntryScaleBench.percentile(total, 99)), ms(total[grants - 1]));
        System.out.printf("   db round trips  p50 %7.2f ms   p99 %7.2f ms   (%.1f per grant)%n",
                ms(EntryScaleBench.percentile(database, 50)), ms(EntryScaleBench.percentile(database, 99)), (double) roundTrips / grants);
        System.out.printf("   share of grant time in db round trips: %.0f %%%n", share * 100);
        System.out.printf("   scram-sha-256 verifier alone (PBKDF2, 16 iterations, as the broker): %.2f ms%n", ms(scram));
        System.out.println(steps());
        System.out.println();
        revokeAll(broker, issued, 4);
    }

    private static void revocation(PostgresBroker broker, int count, int threads) throws Exception {
        List<LeaseGrant> leases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            LeaseGrant lease = lease();
            broker.grant(lease);
            leases.add(lease);
        }
        STEPS.clear();
        long start = System.nanoTime();
        revokeAll(broker, leases, threads);
        long elapsed = System.nanoTime() - start;
        String steps = steps();
        Set<LeaseId> left = broker.granted().orElseThrow();
        if (!left.isEmpty()) {
            throw new IllegalStateException(left.size() + " leases still have a role after revoking all");
        }
        System.out.printf("2. revoking %d leases with %d thread%s: %.2f s (%.0f revocations/s, %.2f ms each on average per thread)%n",
                count, threads, threads == 1 ? "" : "s", elapsed / 1e9, count / (elapsed / 1e9), ms(elapsed) * threads / count);
        System.out.println(steps);
    }

    private static String steps() {
        StringBuilder line = new StringBuilder("   mean per round trip:");
        STEPS.forEach((step, sums) -> line.append(String.format(" %s %.2f ms;", step, ms(sums[0].sum()) / sums[1].sum())));
        return line.toString();
    }

    private static void revokeAll(PostgresBroker broker, List<LeaseGrant> leases, int threads) {
        ExecutorService workers = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (LeaseGrant lease : leases) {
                done.add(workers.submit(() -> broker.revoke(lease)));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("revocation failed: " + e.getMessage(), e);
        } finally {
            workers.shutdown();
        }
    }

    private static long scramVerifierNanos(int rounds) {
        long[] nanos = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            PasswordUtil.encodeScramSha256("bench-password-bench-password-bench-passwo".toCharArray(), 16, new byte[16]);
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return EntryScaleBench.percentile(nanos, 50);
    }

    private static LeaseGrant lease() {
        Instant now = Instant.now();
        return new LeaseGrant(LeaseId.random(), "postgresql", HOLDER, Optional.of("t-bench"), "reports", now,
                now.plus(Duration.ofHours(1)), List.of(), Decision.Obligations.none(), Map.of());
    }

    /** The setup the docs describe, as the superuser: a read-only group and the broker's admin role. */
    static void setUp(PostgresServer.Database database) throws SQLException {
        try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE ROLE reports_read NOLOGIN");
            statement.execute("CREATE TABLE report (x INTEGER)");
            statement.execute("GRANT SELECT ON report TO reports_read");
            statement.execute("CREATE ROLE sigil_broker LOGIN CREATEROLE PASSWORD '" + ADMIN_PASSWORD + "'");
        }
    }

    private static String serverVersion(PostgresServer.Database database) throws SQLException {
        try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password())) {
            return connection.getMetaData().getDatabaseProductVersion();
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
