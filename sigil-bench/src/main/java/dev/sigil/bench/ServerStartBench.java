package dev.sigil.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Server start to healthy on the embedded default, measured from outside as a user sees it: the
 * server runs as its own process ({@code java --enable-native-access=ALL-UNNAMED -jar sigil.jar server
 * run --data-dir DIR}) and the time is taken from launching the process to the first {@code 200} of
 * {@code GET /v1/health} on {@code DIR/admin/admin.sock}, polled every 10 ms.
 *
 * <p>Each run uses a fresh data directory twice: a first start (creates the CA, keys and database)
 * and a restart on what the first start left. The server is stopped (SIGTERM) after each start. It
 * sees no {@code SIGIL_*} environment variables, so nothing moves it off the embedded default.
 *
 * <p>Usage: {@code ServerStartBench [--runs 5] [--jar sigil-cli/target/sigil.jar] [--jvm-opts "-XX:..."]
 * [--timeout-seconds 120]}
 */
public final class ServerStartBench {
    private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private ServerStartBench() {}

    public static void main(String[] args) throws InterruptedException {
        Options options = Options.parse(args, Set.of("--runs", "--jar", "--jvm-opts", "--timeout-seconds"));
        int runs = options.positiveInt("--runs", 5);
        Path jar = Path.of(options.string("--jar", "sigil-cli/target/sigil.jar")).toAbsolutePath();
        String jvmOptions = options.string("--jvm-opts", "").strip();
        Duration timeout = Duration.ofSeconds(options.positiveInt("--timeout-seconds", 120));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no server jar at " + jar
                    + "; build it with ./mvnw -pl sigil-cli -am package -DskipTests or pass --jar");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        if (!jvmOptions.isEmpty()) {
            command.addAll(Arrays.asList(jvmOptions.split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "server", "run"));
        System.out.printf("%d runs of: %s --data-dir <fresh dir>%n%n", runs, String.join(" ", command));

        long[] first = new long[runs];
        long[] restart = new long[runs];
        for (int run = 0; run < runs; run++) {
            try (TempDirectory root = TempDirectory.create("sigil-start")) {
                Path dataDir = root.resolve("data");
                first[run] = startToHealthyMillis(command, dataDir, root.resolve("first.log"), timeout);
                restart[run] = startToHealthyMillis(command, dataDir, root.resolve("restart.log"), timeout);
            }
            System.out.printf("run %d: first start %d ms, restart %d ms%n", run + 1, first[run], restart[run]);
        }
        System.out.printf("%n%-36s %8s %8s %8s%n", "start to healthy (ms)", "min", "median", "max");
        print("first start (creates CA, keys, db)", first);
        print("restart on existing data dir", restart);
    }

    private static void print(String label, long[] millis) {
        long[] sorted = millis.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        long median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        System.out.printf("%-36s %8d %8d %8d%n", label, sorted[0], median, sorted[n - 1]);
    }

    /** Launches the server, polls its health until 200, stops it; the server's output goes to {@code log}. */
    private static long startToHealthyMillis(List<String> command, Path dataDir, Path log, Duration timeout)
            throws InterruptedException {
        List<String> full = new ArrayList<>(command);
        full.addAll(List.of("--data-dir", dataDir.toString()));
        ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("SIGIL_"));
        AdminHealthProbe probe = new AdminHealthProbe(dataDir.resolve("admin").resolve("admin.sock"), Duration.ofSeconds(5));

        long start = System.nanoTime();
        Process server = start(builder);
        Thread killOnExit = new Thread(server::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(killOnExit);
        try {
            while (true) {
                if (probe.status() == 200) {
                    return (System.nanoTime() - start) / 1_000_000;
                }
                if (!server.isAlive()) {
                    throw new IllegalStateException("server exited with status " + server.exitValue()
                            + " before it was healthy; its output:\n" + read(log));
                }
                if (System.nanoTime() - start > timeout.toNanos()) {
                    throw new IllegalStateException("server not healthy after " + timeout.toSeconds() + " s; its output:\n" + read(log));
                }
                Thread.sleep(POLL_INTERVAL);
            }
        } finally {
            stop(server);
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        }
    }

    private static Process start(ProcessBuilder builder) {
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + builder.command() + ": " + e.getMessage(), e);
        }
    }

    private static void stop(Process server) throws InterruptedException {
        server.destroy();
        if (!server.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
            System.err.printf("server pid %d ignored SIGTERM for %d s; killing it%n", server.pid(), STOP_GRACE.toSeconds());
            server.destroyForcibly().waitFor();
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }
}
