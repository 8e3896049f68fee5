package dev.sigil.bench;

import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link MintBenchmark} (taking the usual JMH command-line options, e.g. {@code -f 1 -wi 3 -i 5})
 * and prints the two ratios against their targets after JMH's own table. Exits 1 when a target is
 * missed (or a ratio was not measured), so a run can gate on it; run it on a quiet machine.
 */
public final class MintRatios {
    private MintRatios() {}

    public static void main(String[] args) throws CommandLineOptionException, RunnerException {
        var options = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(MintBenchmark.class.getName() + "\\.")
                .build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, Double> scores = results.stream().collect(Collectors.toMap(
                result -> method(result.getParams().getBenchmark()), result -> result.getPrimaryResult().getScore()));
        System.out.println();
        boolean met = ratio(scores, "x509SvidMintFromCsr", "rawVerifyPlusSign", 0.6);
        met &= ratio(scores, "jwtSvidMint", "rawEs256Sign", 0.7);
        if (!met) {
            System.exit(1);
        }
    }

    private static boolean ratio(Map<String, Double> scores, String mint, String raw, double target) {
        if (!scores.containsKey(mint) || !scores.containsKey(raw)) {
            System.out.printf("%s / %s: not measured in this run%n", mint, raw);
            return false;
        }
        double ratio = scores.get(mint) / scores.get(raw);
        System.out.printf("%-21s / %-17s = %,9.0f / %,9.0f ops/s = %.2f  (target >= %.1f: %s)%n", mint, raw,
                scores.get(mint), scores.get(raw), ratio, target, ratio >= target ? "met" : "NOT met");
        return ratio >= target;
    }

    private static String method(String benchmark) {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }
}
