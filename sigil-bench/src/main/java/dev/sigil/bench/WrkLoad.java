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
 * A closed-loop HTTP load from {@code wrk} (Debian package {@code wrk}), a C load generator whose
 * own CPU cost is a small fraction of a JVM client's, so on a 2-core machine the server, not the
 * client, is what is measured. Each connection sends POSTs back to back, cycling through the given
 * form bodies. wrk does not verify the server certificate; the JDK client in the same bench does.
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
        StringBuilder lua = new StringBuilder("local bodies = {\n");
        for (String body : bodies) {
            lua.append("  \"").append(body.replace("\\", "\\\\").replace("\"", "\\\"")).append("\",\n");
        }
        lua.append("""
                }
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
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(seconds + 30L, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("wrk failed: " + output);
        }
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no result: " + output);
        }
        return new Result(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)) / 1e6, Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6)),
                Double.parseDouble(m.group(7)));
    }
}
