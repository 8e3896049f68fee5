package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.testkit.Refusals;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any policy document either compiles, or is refused with a {@link PolicyDocumentException} whose line
 * and presentable reason say what is wrong: never another exception, which {@code PUT /v1/policy} would
 * answer as a server fault. A document that compiles then decides, without throwing, requests built to
 * match each of its rules (so their CEL conditions run) and one that matches none. Inputs that once
 * failed or hung are kept under {@code PolicyDocumentFuzzTestInputs/}.
 */
class PolicyDocumentFuzzTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyDocumentCompilesOrIsRefusedCleanly(byte[] input) {
        String yaml = new String(input, StandardCharsets.UTF_8);
        List<Rule> rules;
        try {
            rules = PolicyParser.parse(yaml);
        } catch (PolicyDocumentException e) {
            assertThat(e.line()).isPositive();
            Refusals.assertPresentable(e);
            return;
        }
        CompiledPolicy policy = CompiledPolicy.parse(yaml);
        assertThat(policy.ruleCount()).isEqualTo(rules.size());
        decides(policy, request("spiffe://unmatched.example/none", "nothing", "nothing"));
        for (Rule rule : rules) {
            Optional<String> subject = matchingId(rule.subject());
            if (subject.isPresent()) {
                decides(policy, request(subject.get(), example(rule.actions().get(0)), example(rule.resources().get(0))));
            }
        }
    }

    private static void decides(CompiledPolicy policy, PolicyRequest request) {
        Decision decision = policy.decide(request);
        assertThat(decision.reasons()).isNotEmpty();
    }

    private static PolicyRequest request(String subject, String action, String resource) {
        return new PolicyRequest(SpiffeId.parse(subject), java.util.Set.of(), 3, Optional.of(NOW.minusSeconds(60)), action, resource,
                List.of("read"), Optional.empty(), List.of(SpiffeId.parse("spiffe://example.org/agent")), NOW,
                Map.of("team", "payments", "depth", 3, "tags", List.of("a", "b")));
    }

    /** A SPIFFE ID the pattern matches, when there is a valid one. */
    private static Optional<String> matchingId(SubjectPattern pattern) {
        String id = switch (pattern) {
            case SubjectPattern.Exact exact -> exact.text();
            case SubjectPattern.Prefix prefix -> prefix.base() + "x";
            case SubjectPattern.Glob glob -> glob.trustDomainPrefix() + String.join("/",
                    glob.segments().stream().map(segment -> segment == null ? "x" : segment).toList()) + (glob.openEnded() ? "/x" : "");
        };
        try {
            return Optional.of(SpiffeId.parse(id).toString());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String example(ValuePattern pattern) {
        return pattern.text().endsWith("*") ? pattern.text().substring(0, pattern.text().length() - 1) + "x" : pattern.text();
    }
}
