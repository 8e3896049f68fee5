package dev.sigil.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Sigil's token exchange side by side with Keycloak's {@code client_credentials} grant, as each one's
 * users start it, on the same machine in the same run, under the same wrk load (one thread,
 * {@code --connections} keep-alive connections, closed loop):
 *
 * <ul>
 *   <li><b>keycloak</b>: {@code kc.sh start-dev} of the distribution from Maven Central
 *       ({@link KeycloakDistribution}), plain HTTP, ES256 access tokens;</li>
 *   <li><b>sigil dev</b>: {@code bin/sigil dev}, what a newcomer starts; RFC 8693 exchanges over HTTPS;</li>
 *   <li><b>sigil server run</b>: {@code bin/sigil server run --config FILE} (embedded SQLite, audit on);</li>
 *   <li><b>raw jdk</b>: {@link RawJdkTokenServer}, the JDK's HTTPS server doing only verify + sign, the upper
 *       bound for this design.</li>
 * </ul>
 *
 * All four run at once; after one untimed warm-up run each, the timed runs alternate (keycloak, sigil
 * dev, sigil server run, raw jdk; {@code --rounds} times), so a change in the machine's load falls on
 * each of them alike. Each run reports tokens/s, wrk's p50/p99, and the server's CPU time per token (its
 * process tree, from /proc). Every answer must be 2xx, or the run fails. Exits 1 when a Sigil's median
 * rate is below 3x Keycloak's or its median p99 above Keycloak's. Every process and the temporary
 * directory are removed at the end, on failure and on Ctrl-C too.
 *
 * <pre>
 * java -cp sigil-bench/target/sigil-bench.jar dev.sigil.bench.KeycloakSideBySideBench [--seconds 15] [--warmup-seconds 15]
 *     [--rounds 3] [--connections 16] [--tokens 16] [--raw-threads 8] [--keycloak-version 26.7.3] [--java-home DIR]
 *     [--only keycloak,dev,server,raw]
 * </pre>
 * Run from the repository root (it starts {@code bin/sigil}).
 */
public final class KeycloakSideBySideBench {
    private static final double TARGET_RATIO = 3.0;
    private static final Set<String> SERVERS = Set.of("keycloak", "dev", "server", "raw");

    private KeycloakSideBySideBench() {}

    /** One timed run of one contender. */
    private record Run(String contender, double perSecond, double p50Ms, double p99Ms, double cpuMicrosPerToken) {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--seconds", "--warmup-seconds", "--rounds", "--connections", "--tokens",
                "--raw-threads", "--keycloak-version", "--java-home", "--only"));
        int seconds = options.positiveInt("--seconds", 15);
        int warmup = options.positiveInt("--warmup-seconds", 15);
        int rounds = options.positiveInt("--rounds", 3);
        int connections = options.positiveInt("--connections", 16);
        int tokens = options.positiveInt("--tokens", 16);
        int rawThreads = options.positiveInt("--raw-threads", 8);
        String version = options.string("--keycloak-version", KeycloakDistribution.DEFAULT_VERSION);
        Path javaHome = Path.of(options.string("--java-home", System.getProperty("java.home")));
        List<String> only = Arrays.stream(options.string("--only", "keycloak,dev,server,raw").split(",")).map(String::strip).toList();
        for (String name : only) {
            if (!SERVERS.contains(name)) {
                throw new IllegalArgumentException("--only names '" + name + "'; expected some of keycloak, dev, server, raw");
            }
        }
        if (!WrkLoad.available()) {
            throw new IllegalStateException("wrk is needed (apt-get install wrk)");
        }
        Path sigil = only.contains("dev") || only.contains("server") ? ServerProcesses.sigil() : null;

        boolean missed;
        try (ProcessReaper reaper = ProcessReaper.create("sigil-kcbench")) {
            Path dir = reaper.directory().path();
            List<Contender> contenders = new ArrayList<>();
            if (only.contains("keycloak")) {
                Path zip = KeycloakDistribution.fetch(version);
                contenders.add(KeycloakDistribution.start(zip, Files.createDirectories(dir.resolve("keycloak")),
                        ServerProcesses.freePort(), javaHome, reaper));
            }
            if (only.contains("dev")) {
                contenders.add(SigilContenders.dev(sigil, Files.createDirectories(dir.resolve("sigil-dev")), tokens, reaper));
            }
            if (only.contains("server")) {
                contenders.add(SigilContenders.serverRun(sigil, Files.createDirectories(dir.resolve("sigil-server")), tokens, reaper));
            }
            if (only.contains("raw")) {
                contenders.add(startRaw(javaHome, Files.createDirectories(dir.resolve("raw")), tokens, rawThreads, reaper));
            }
            System.out.printf("KeycloakSideBySideBench: Keycloak %s, %d s runs after %d s warm-up each, %d rounds, wrk 1 thread %d "
                            + "connections, %d cores, load average %s, JDK %s%n", version, seconds, warmup, rounds, connections,
                    Runtime.getRuntime().availableProcessors(), loadAverage(), javaHome);
            for (Contender contender : contenders) {
                WrkLoad.Result result = WrkLoad.run(contender.uri(), contender.path(), contender.bodyArray(), connections, warmup, dir);
                if (result.non2xx() > 0) { // warm-up, not reported; a cold server may complete nothing yet, but must not refuse
                    throw new IllegalStateException(contender.name() + ": " + result.non2xx() + " non-2xx answers during the warm-up");
                }
            }
            System.out.printf("%-6s %-18s %10s %9s %9s %14s%n", "round", "server", "tokens/s", "p50 ms", "p99 ms", "CPU us/token");
            List<Run> runs = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                for (Contender contender : contenders) {
                    Run run = load(contender, connections, seconds, dir);
                    runs.add(run);
                    System.out.printf("%-6d %-18s %,10.0f %9.1f %9.1f %,14.0f%n", round, run.contender(), run.perSecond(), run.p50Ms(),
                            run.p99Ms(), run.cpuMicrosPerToken());
                }
            }
            missed = summarize(contenders, runs);
            System.out.printf("load average at the end: %s%n", loadAverage());
        }
        if (missed) {
            System.exit(1);
        }
    }

    /** One wrk run against {@code contender}; every answer must be 2xx. */
    private static Run load(Contender contender, int connections, int seconds, Path dir) throws Exception {
        long cpuBefore = ProcessReaper.treeCpuMicros(contender.process());
        WrkLoad.Result result = WrkLoad.run(contender.uri(), contender.path(), contender.bodyArray(), connections, seconds, dir);
        long cpu = ProcessReaper.treeCpuMicros(contender.process()) - cpuBefore;
        if (result.non2xx() > 0 || result.socketErrors() > 0 || result.requests() == 0) {
            throw new IllegalStateException(contender.name() + ": " + result.non2xx() + " non-2xx answers and " + result.socketErrors()
                    + " socket errors in " + result.requests() + " requests");
        }
        if (!contender.process().isAlive()) {
            throw new IllegalStateException(contender.name() + " exited during the run");
        }
        return new Run(contender.name(), result.perSecond(), result.p50Micros() / 1000, result.p99Micros() / 1000,
                (double) cpu / result.requests());
    }

    /** Prints the medians and each one's ratio to Keycloak; true when a Sigil misses the goal. */
    private static boolean summarize(List<Contender> contenders, List<Run> runs) {
        Map<String, Run> medians = new LinkedHashMap<>();
        for (Contender contender : contenders) {
            List<Run> own = runs.stream().filter(r -> r.contender().equals(contender.name())).toList();
            medians.put(contender.name(), new Run(contender.name(), median(own.stream().mapToDouble(Run::perSecond).toArray()),
                    median(own.stream().mapToDouble(Run::p50Ms).toArray()), median(own.stream().mapToDouble(Run::p99Ms).toArray()),
                    median(own.stream().mapToDouble(Run::cpuMicrosPerToken).toArray())));
        }
        Run keycloak = medians.get("keycloak");
        System.out.printf("%nmedians%n%-18s %10s %9s %9s %14s %14s%n", "server", "tokens/s", "p50 ms", "p99 ms", "CPU us/token",
                "rate/keycloak");
        for (Run median : medians.values()) {
            System.out.printf("%-18s %,10.0f %9.1f %9.1f %,14.0f %14s%n", median.contender(), median.perSecond(), median.p50Ms(),
                    median.p99Ms(), median.cpuMicrosPerToken(), keycloak == null ? "-"
                            : String.format("%.2fx", median.perSecond() / keycloak.perSecond()));
        }
        if (keycloak == null) {
            System.out.println("no keycloak in this run: the goal is not checked");
            return false;
        }
        boolean missed = false;
        for (Run median : medians.values()) {
            if (!median.contender().startsWith("sigil")) {
                continue;
            }
            boolean rate = median.perSecond() >= TARGET_RATIO * keycloak.perSecond();
            boolean p99 = median.p99Ms() <= keycloak.p99Ms();
            System.out.printf("goal for %s: rate >= %.0fx keycloak's (%,.0f/s): %s; p99 <= keycloak's (%.1f ms): %s%n", median.contender(),
                    TARGET_RATIO, TARGET_RATIO * keycloak.perSecond(), rate ? "met" : "NOT met", keycloak.p99Ms(), p99 ? "met" : "NOT met");
            missed |= !(rate && p99);
        }
        return missed;
    }

    /** Starts {@link RawJdkTokenServer} in its own JVM (this one's class path, the server profile's collector). */
    private static Contender startRaw(Path javaHome, Path dir, int tokens, int threads, ProcessReaper reaper) throws Exception {
        int port = ServerProcesses.freePort();
        Path subjects = dir.resolve("subject-tokens");
        Process process = reaper.start(new ProcessBuilder(javaHome.resolve("bin").resolve("java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=50", "-cp", System.getProperty("java.class.path"),
                RawJdkTokenServer.class.getName(), Integer.toString(port), subjects.toString(), Integer.toString(tokens),
                Integer.toString(threads)).redirectError(dir.resolve("raw.log").toFile()));
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"ready".equals(line)) {
            process.waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException("the raw JDK server did not start; its log ends:\n" + ProcessReaper.logTail(dir.resolve("raw.log")));
        }
        List<String> bodies = Files.readAllLines(subjects).stream().map(token -> "grant_type="
                + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt")
                + "&subject_token=" + enc(token) + "&audience=" + enc("https://api")).toList();
        return new Contender("raw jdk", java.net.URI.create("https://127.0.0.1:" + port), "/oauth2/token", bodies, process);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private static String enc(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
