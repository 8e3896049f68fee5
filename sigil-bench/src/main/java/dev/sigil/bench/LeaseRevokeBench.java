package dev.sigil.bench;

import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL leases through the whole lease service, as an operator's {@code sigil lease revoke
 * --broker postgresql} does it: a {@link SigilServer} configured with the {@code postgresql} broker
 * (YAML, SQLite datastore durable, audit on) against a loopback PostgreSQL of its own. For each count in
 * {@code --issuers}: {@code --leases} leases issued through {@link LeaseService#issue} by that many
 * concurrent requesters (each issue: policy, pending record with audit, {@code CREATE ROLE}, active
 * record with audit), then one revoke of all of them by broker filter (intent and audit records, then
 * the backend revocation of each, confirmed in the store). An untimed round of {@code --warmup} leases
 * comes first.
 *
 * <p>Targets: issuing at >= {@value #ISSUE_TARGET} leases/s with the largest issuer count, and every
 * revocation of {@code --leases} (1,000) leases within {@value #REVOKE_TARGET_SECONDS} s; exits 1 when
 * one is missed. {@code --pg-durable 1} runs PostgreSQL with fsync and synchronous commit on (default:
 * off, as sigil-testkit's test server).
 *
 * <p>Usage: {@code LeaseRevokeBench [--leases 1000] [--issuers 1,16] [--warmup 3000] [--pg-durable 0|1]}
 */
public final class LeaseRevokeBench {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://example.org/billing/report-job");
    static final int ISSUE_TARGET = 1_000;
    static final double REVOKE_TARGET_SECONDS = 5;

    private LeaseRevokeBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--leases", "--issuers", "--warmup", "--pg-durable"));
        int count = options.positiveInt("--leases", 1_000);
        int warmup = options.positiveInt("--warmup", 3_000);
        int[] issuers = Arrays.stream(options.string("--issuers", "1,16").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean pgDurable = options.string("--pg-durable", "0").equals("1");
        Logging.apply("warn");
        try (PostgresServer postgres = pgDurable ? PostgresServer.startDurable() : PostgresServer.start();
             TempDirectory root = TempDirectory.create("sigil-leases")) {
            PostgresServer.Database database = postgres.createDatabase();
            PostgresBrokerBench.setUp(database);
            Path passwordFile = root.path().resolve("pg.pass");
            Files.writeString(passwordFile, PostgresBrokerBench.ADMIN_PASSWORD);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            Path file = root.path().resolve("sigil.yaml");
            Files.writeString(file, """
                    data_dir: %s
                    trust_domain: example.org
                    log_level: warn
                    bundle_endpoint:
                      enabled: false
                    agent_api:
                      port: 0
                    token_endpoint:
                      port: 0
                    brokers:
                      postgresql:
                        url: "%s"
                        admin_user: sigil_broker
                        admin_password_file: %s
                        resources:
                          reports:
                            member_of: [reports_read]
                    """.formatted(root.path().resolve("server"), database.jdbcUrl(), passwordFile));
            var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root.path()), ConfigOverrides.none());
            boolean met = true;
            try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                    SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("bench allows"), Decision.Obligations.none())))) {
                LeaseService leases = server.leases();
                issue(leases, warmup, Arrays.stream(issuers).max().orElse(1));
                revokeAll(leases, warmup);
                System.out.printf("lease service + postgresql broker, %,d leases per round, SQLite durable datastore, loopback PostgreSQL "
                        + "(fsync and synchronous_commit %s), load average %.1f%n", count, pgDurable ? "on" : "off", loadAverage());
                double best = 0;
                long postmaster = ServerProcesses.postmasterOf(database);
                for (int n : issuers) {
                    long[] nanos = new long[count];
                    long cpu0 = processCpuMicros();
                    long pgCpu0 = ServerProcesses.postgresTreeCpuMicros(postmaster);
                    WaitSampler waits = WaitSampler.start(database);
                    double seconds = issue(leases, count, n, nanos);
                    String waited = waits.stop();
                    double cpuPerLease = (processCpuMicros() - cpu0) / 1000.0 / count;
                    double pgCpuPerLease = (ServerProcesses.postgresTreeCpuMicros(postmaster) - pgCpu0) / 1000.0 / count;
                    Arrays.sort(nanos);
                    double[] revoke = revokeAll(leases, count);
                    best = n == Arrays.stream(issuers).max().orElse(1) ? count / seconds : best;
                    boolean revokeMet = revoke[0] <= REVOKE_TARGET_SECONDS && revoke[2] == 0;
                    met &= revokeMet;
                    System.out.printf("  %2d issuer(s): issue %.2f s (%,.0f/s), p50 %.2f ms, p99 %.2f ms, CPU per lease: this JVM %.2f ms, "
                            + "PostgreSQL %.2f ms | revoke all %.2f s (%.0f confirmed in the first pass, %.0f left revoking; target <= %.0f s: "
                            + "%s)%n", n, seconds, count / seconds, nanos[count / 2] / 1e6, nanos[count * 99 / 100] / 1e6, cpuPerLease,
                            pgCpuPerLease, revoke[0], revoke[1], revoke[2], REVOKE_TARGET_SECONDS, revokeMet ? "met" : "NOT met");
                    System.out.printf("      broker backends while issuing (pg_stat_activity every 10 ms): %s%n", waited);
                }
                boolean issueMet = best >= ISSUE_TARGET;
                met &= issueMet;
                System.out.printf("  issue with %d issuers: %,.0f/s (target >= %,d/s: %s)%n", Arrays.stream(issuers).max().orElse(1), best,
                        ISSUE_TARGET, issueMet ? "met" : "NOT met");
            }
            if (!met) {
                System.exit(1);
            }
        }
    }

    private static void issue(LeaseService leases, int count, int issuers) throws Exception {
        issue(leases, count, issuers, new long[count]);
    }

    /** Issues {@code count} leases from {@code issuers} threads; fills each issue's latency; returns the seconds taken. */
    private static double issue(LeaseService leases, int count, int issuers, long[] nanos) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        for (int t = 0; t < issuers; t++) {
            threads.add(Thread.ofPlatform().name("issuer-" + t).start(() -> {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    long t0 = System.nanoTime();
                    try {
                        leases.issue(new LeaseService.IssueRequest(HOLDER, false, List.of(), "postgresql", "reports", Optional.empty(),
                                Optional.empty(), Map.of()));
                    } catch (RuntimeException e) {
                        failures.add(e);
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
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.size() + " issue(s) failed, first: " + failures.getFirst(), failures.getFirst());
        }
        return seconds;
    }

    /** Revokes every postgresql lease by broker filter; returns seconds until none is revoking, first-pass confirmations, left. */
    private static double[] revokeAll(LeaseService leases, int count) throws InterruptedException {
        long start = System.nanoTime();
        var result = leases.revoke(LeaseFilter.all().withBroker("postgresql"), "bench", "bench");
        long remaining;
        do {
            remaining = leases.list(LeaseFilter.all().withBroker("postgresql").withState(LeaseState.REVOKING), count).size();
            if (remaining > 0) {
                Thread.sleep(20);
            }
        } while (remaining > 0 && System.nanoTime() - start < 120_000_000_000L);
        return new double[] {(System.nanoTime() - start) / 1e9, result.revoked(), remaining};
    }

    /** CPU time of this JVM (every thread, GC and JIT included), in microseconds. */
    static long processCpuMicros() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1_000;
    }

    static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
