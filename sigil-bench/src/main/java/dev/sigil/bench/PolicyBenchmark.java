package dev.sigil.bench;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.policy.CompiledPolicy;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyRequest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * One policy decision against a generated policy of {@code rules} rules: per service an exact-subject
 * allow for token exchange (every tenth with a CEL condition), per team a prefix allow for credential
 * issue, and a deny every fiftieth rule. The request matches an exact rule with a condition, a prefix
 * rule and a deny candidate that does not apply, so the index, static matching and one CEL evaluation
 * are all on the measured path. Target: median <= 20 µs with 1,000 rules.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
public class PolicyBenchmark {
    @Param({"1000"})
    int rules;

    private CompiledPolicy policy;
    private PolicyRequest request;

    @Setup(Level.Trial)
    public void setUp() {
        StringBuilder yaml = new StringBuilder("rules:\n");
        for (int i = 0; i < rules; i++) {
            yaml.append("  - name: rule-").append(i).append('\n');
            if (i % 50 == 49) {
                yaml.append("""
                            effect: deny
                            subject: {spiffe_id: "spiffe://bench.test/svc-%d"}
                            actions: ["*"]
                            resources: ["https://internal-%d/*"]
                        """.formatted(i - 9, i));
            } else if (i % 5 == 4) {
                yaml.append("""
                            effect: allow
                            subject: {spiffe_id: "spiffe://bench.test/team-%d/*", selectors: ["k8s:ns:team-%d"]}
                            actions: [credential:issue, token:exchange]
                            resources: ["https://api-%d*"]
                            obligations: {max_ttl: 10m, require_mtls: true}
                        """.formatted(i % 20, i % 20, i));
            } else {
                yaml.append("""
                            effect: allow
                            subject: {spiffe_id: "spiffe://bench.test/svc-%d", min_trust_level: 1}
                            actions: [token:exchange]
                            resources: ["https://api-%d"]
                            obligations: {max_ttl: 5m, scopes: [read, write]}
                        """.formatted(i, i));
                if (i % 10 == 0) {
                    yaml.append("    condition: request.trust_level >= 1 && \"k8s:ns:team-0\" in request.selectors\n");
                }
            }
        }
        policy = CompiledPolicy.parse(yaml.toString());
        // rule-40: exact subject with a condition; rule-44 (team-4 prefix) is another candidate.
        request = new PolicyRequest(SpiffeId.parse("spiffe://bench.test/svc-40"),
                Set.of(Selector.parse("k8s:ns:team-0"), Selector.parse("unix:uid:1000")), 2, Optional.empty(),
                "token:exchange", "https://api-40", List.of("read"), Optional.empty(), List.of(),
                Instant.parse("2026-11-22T12:00:00Z"), Map.of("team", "blue"));
        if (!(policy.decide(request) instanceof Decision.Allow)) {
            throw new IllegalStateException("benchmark request should be allowed: " + policy.decide(request).reasons());
        }
    }

    @Benchmark
    public Decision decide() {
        return policy.decide(request);
    }
}
