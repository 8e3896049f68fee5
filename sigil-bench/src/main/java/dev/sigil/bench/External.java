package dev.sigil.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * {@link TokenExchangeBench} against a {@code bin/sigil server run} process ({@code --server sqlite|postgresql}),
 * as users run the server: the saturation point from {@code wrk}'s closed loop (its rate, latency, and the
 * server process's own CPU per exchange from /proc), then wrk's open loop ({@link WrkLoad#openLoop}) at 80 % of
 * that rate (or {@code --rate}), latency measured from the scheduled send time. Both loads come from wrk,
 * whose CPU per request is a fraction of a JVM client's, so on 2 cores the open loop keeps its schedule.
 *
 * <p>Targets: p99 <= 100 ms at saturation and <= 50 ms at 80 % of it.
 */
final class External {
    static final double TARGET_P99_SATURATION_MS = 100;
    static final double TARGET_P99_80_MS = 50;
    /** Open loop: connections, one per wrk thread. */
    static final int OPEN_CONNECTIONS = 32;

    private External() {}

    /** Returns true when a target was missed. */
    static boolean run(Path sigil, String datastore, int connections, int seconds, int warmupSeconds, int poolSize,
                       OptionalInt fixedRate) throws Exception {
        if (!WrkLoad.available()) {
            throw new IllegalStateException("--server " + datastore + " needs wrk (apt-get install wrk)");
        }
        Path dir = Files.createTempDirectory("sigil-token-external");
        boolean missed = false;
        try (ExternalTokenServer server = ExternalTokenServer.start(sigil, datastore, dir, TokenExchangeBench.SUBJECT,
                TokenExchangeBench.AUDIENCE, TokenExchangeBench.POLICY, poolSize)) {
            System.out.printf("server: %s server run (pid %d) on %s, data in %s; %d cores; load average %s%n", sigil, server.pid(),
                    datastore.equals("sqlite") ? "SQLite (WAL, synchronous=FULL)" : "PostgreSQL 15 (testkit: fsync=off, synchronous_commit=off)",
                    server.data(), Runtime.getRuntime().availableProcessors(), loadAverage());
            WrkLoad.run(server.tokenUri(), "/oauth2/token", server.bodies(), connections, warmupSeconds, dir);
            long cpu = server.cpuMicros();
            long pgCpu = server.postgresCpuMicros();
            WrkLoad.Result wrk = WrkLoad.run(server.tokenUri(), "/oauth2/token", server.bodies(), connections, seconds, dir);
            long serverCpu = server.cpuMicros() - cpu;
            long postgresCpu = server.postgresCpuMicros() - pgCpu;
            double saturationP99 = wrk.p99Micros() / 1000;
            boolean saturationMet = saturationP99 <= TARGET_P99_SATURATION_MS && wrk.non2xx() == 0 && wrk.socketErrors() == 0;
            missed |= !saturationMet;
            String title = "token exchange against bin/sigil server run, " + datastore;
            System.out.printf("%n%-62s %12s %s%n", title, "value", "");
            TokenExchangeBench.row(String.format("1. saturation: wrk closed loop, %d connections, %d s: exchanges/s", connections, seconds),
                    String.format("%,.0f", wrk.perSecond()), "");
            TokenExchangeBench.row("   exchanges completed / non-2xx / socket errors",
                    String.format("%,d / %d / %d", wrk.requests(), wrk.non2xx(), wrk.socketErrors()), "");
            TokenExchangeBench.row("   latency p50", String.format("%.3f", wrk.p50Micros() / 1000), "ms");
            TokenExchangeBench.row("   latency p99", String.format("%.3f", saturationP99),
                    String.format("ms (target <= %.0f: %s)", TARGET_P99_SATURATION_MS, saturationMet ? "met" : "NOT met"));
            TokenExchangeBench.row("   latency max", String.format("%.3f", wrk.maxMicros() / 1000), "ms");
            TokenExchangeBench.row("   server process CPU per exchange", String.format("%,.0f", serverCpu / (double) wrk.requests()),
                    String.format("us (it used %.2f cores)", serverCpu / 1e6 / wrk.seconds()));
            if (datastore.equals("postgresql")) {
                TokenExchangeBench.row("   PostgreSQL CPU per exchange", String.format("%,.0f", postgresCpu / (double) wrk.requests()), "us");
            }

            int rate = fixedRate.orElse((int) Math.max(1, Math.round(wrk.perSecond() * 0.8)));
            TokenExchangeBench.Open open = WrkLoad.openLoop(server.tokenUri(), "/oauth2/token", server.bodies(), OPEN_CONNECTIONS, rate,
                    seconds, dir);
            int offered = rate * seconds;
            long[] withFailures = Arrays.copyOf(open.sorted(), offered);
            Arrays.fill(withFailures, open.sorted().length, offered, Long.MAX_VALUE);
            long p99Nanos = TokenExchangeBench.percentile(withFailures, 99);
            boolean rateMet = p99Nanos / 1e6 <= TARGET_P99_80_MS;
            if (fixedRate.isEmpty()) {
                missed |= !rateMet;
            }
            TokenExchangeBench.row(String.format("2. open loop (wrk, %d connections), %,d/s offered%s for %d s: answered/s", OPEN_CONNECTIONS, rate,
                    fixedRate.isEmpty() ? " (80 %)" : "", seconds), String.format("%,.0f", open.sorted().length / open.seconds()), "");
            TokenExchangeBench.row("   requests failed or not sent", String.format("%,d", open.failed()), open.failed() == 0 ? ""
                    : "of " + String.format("%,d", offered) + " (first: " + open.firstFailure() + ")");
            TokenExchangeBench.row("   latency p50 (from scheduled send time)",
                    TokenExchangeBench.msOrFailed(TokenExchangeBench.percentile(withFailures, 50)), "ms");
            TokenExchangeBench.row("   latency p99 (from scheduled send time)", TokenExchangeBench.msOrFailed(p99Nanos),
                    fixedRate.isEmpty() ? String.format("ms (target <= %.0f at 80 %%: %s)", TARGET_P99_80_MS, rateMet ? "met" : "NOT met") : "ms");
            TokenExchangeBench.row("   latency max of the answered", open.sorted().length == 0 ? "-"
                    : String.format("%.3f", open.sorted()[open.sorted().length - 1] / 1e6), "ms");
            TokenExchangeBench.row("   scheduler lag max (send started late)", String.format("%.3f", open.maxLagNanos() / 1e6), "ms");
            System.out.printf("load average after: %s%n", loadAverage());
        }
        return missed;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
