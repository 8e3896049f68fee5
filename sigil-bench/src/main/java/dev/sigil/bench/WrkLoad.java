package dev.sigil.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP load from {@code wrk} (Debian package {@code wrk}), a C load generator whose own CPU cost is a
 * small fraction of a JVM client's, so on a 2-core machine the server, not the client, is what is
 * measured. {@link #run}: a closed loop, each connection sending POSTs back to back, cycling through the
 * given form bodies. {@link #openLoop}: a fixed rate, latency from each request's scheduled time
 * ({@code wrk-open-loop.lua}). wrk does not verify the server certificate; the JDK client in the same
 * bench does.
 */
final class WrkLoad {
    /** What wrk measured: requests completed, non-2xx answers, latency percentiles in microseconds. */
    record Result(long requests, long non2xx, long socketErrors, double seconds, double p50Micros, double p99Micros, double maxMicros) {
        double perSecond() {
            return requests / seconds;
        }
    }

    private static final Pattern RESULT = Pattern.compile(
            "RESULT requests=(\\d+) non2xx=(\\d+) socket_errors=(\\d+) duration_us=(\\d+) p50=([\\d.]+) p99=([\\d.]+) max=([\\d.]+)");

    private WrkLoad() {
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/wrk"));
    }

    static Result run(URI uri, String path, String[] bodies, int connections, int seconds, Path workDir) throws IOException, InterruptedException {
        Path script = workDir.resolve("wrk-bodies.lua");
        StringBuilder lua = new StringBuilder("local bodies = ").append(luaStrings(bodies)).append("\n");
        lua.append("""
                local i = 0
                local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
                request = function()
                  i = i % #bodies + 1
                  return wrk.format("POST", "@PATH@", headers, bodies[i])
                end
                done = function(summary, latency, requests)
                  local e = summary.errors
                  io.write(string.format("RESULT requests=%d non2xx=%d socket_errors=%d duration_us=%d p50=%.1f p99=%.1f max=%.1f\\n",
                    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
                    latency:percentile(50), latency:percentile(99), latency.max))
                end
                """.replace("@PATH@", path));
        Files.writeString(script, lua, StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>(List.of("/usr/bin/wrk", "-t", "1", "-c", Integer.toString(connections),
                "-d", seconds + "s", "--timeout", "10s", "-s", script.toString(), uri.toString()));
        String output = wrk(command, seconds);
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no result: " + output);
        }
        return new Result(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)) / 1e6, Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6)),
                Double.parseDouble(m.group(7)));
    }

    /**
     * {@code rate} POSTs a second for {@code seconds}, spread over {@code connections} connections (wrk with one
     * thread per connection), each request's latency measured from its scheduled time. A request not answered
     * 2xx by the end of the run (refused, failed or never sent because its connection was still waiting) is a
     * failure, counted as slower than every answered one.
     */
    static TokenExchangeBench.Open openLoop(URI uri, String path, String[] bodies, int connections, int rate, int seconds, Path workDir)
            throws IOException, InterruptedException {
        Path latencies = workDir.resolve("wrk-open-loop-latencies.txt");
        Files.deleteIfExists(latencies);
        String script;
        try (var in = WrkLoad.class.getResourceAsStream("wrk-open-loop.lua")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        long startDelayMicros = 500_000; // every thread has connected before the first scheduled request
        String prologue = "BODIES = " + luaStrings(bodies) + "\nPATH = " + luaString(path) + "\nRATE = " + rate + "\nSECONDS = " + seconds
                + "\nCONNECTIONS = " + connections + "\nSTART_DELAY_US = " + startDelayMicros + "\nOUT = "
                + luaString(latencies.toString()) + "\n";
        Path file = workDir.resolve("wrk-open-loop.lua");
        Files.writeString(file, prologue + script, StandardCharsets.UTF_8);
        // the schedule ends START_DELAY_US + seconds after wrk's start; the last answers get up to 2 s more
        int duration = seconds + 3;
        String output = wrk(List.of("/usr/bin/wrk", "-t", Integer.toString(connections), "-c", Integer.toString(connections),
                "-d", duration + "s", "--timeout", "10s", "-s", file.toString(), uri.toString()), duration);
        Matcher m = OPEN_LOOP.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no open-loop result: " + output);
        }
        long[] answered;
        try (var lines = Files.lines(latencies)) {
            answered = lines.mapToLong(line -> Long.parseLong(line.strip()) * 1_000).sorted().toArray();
        }
        long offered = (long) rate * seconds;
        int failed = (int) Math.max(0, offered - answered.length);
        long non2xx = Long.parseLong(m.group(1));
        long socketErrors = Long.parseLong(m.group(2));
        String firstFailure = failed == 0 ? "" : non2xx + " non-2xx answers, " + socketErrors + " socket errors, the rest not answered in time";
        return new TokenExchangeBench.Open(seconds, answered, Long.parseLong(m.group(3)) * 1_000, failed, firstFailure);
    }

    private static final Pattern OPEN_LOOP = Pattern.compile("OPENLOOP non2xx=(\\d+) socket_errors=(\\d+) max_lag_us=(\\d+)");

    private static String wrk(List<String> command, int seconds) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(seconds + 30L, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("wrk failed: " + output);
        }
        return output;
    }

    private static String luaStrings(String[] values) {
        StringBuilder lua = new StringBuilder("{\n");
        for (String value : values) {
            lua.append("  ").append(luaString(value)).append(",\n");
        }
        return lua.append("}").toString();
    }

    private static String luaString(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
