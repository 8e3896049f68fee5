package dev.sigil.server.policy;

import java.util.List;
import java.util.Objects;

/**
 * A read-only view of one rule of the policy in force, for reports over the policy (governance posture):
 * what it names, never its compiled condition. Matching here is static (subject pattern, action and
 * resource patterns); a rule's CEL condition and selectors may narrow it further at request time.
 *
 * @param subject        the rule's subject pattern as written ({@code spiffe://td/web}, {@code spiffe://td/dev/*})
 * @param minTrustLevel  the trust level the rule asks of its subject (0 to 3)
 * @param conditional    whether a CEL condition narrows the rule
 */
public record RuleView(String name, int line, boolean allow, String subject, int minTrustLevel, List<String> actions,
                       List<String> resources, boolean conditional) {
    public RuleView {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(subject, "subject");
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
    }

    static RuleView of(Rule rule) {
        return new RuleView(rule.name(), rule.line(), rule.effect() == Rule.Effect.ALLOW, rule.subject().text(), rule.minTrustLevel(),
                rule.actions().stream().map(ValuePattern::text).toList(), rule.resources().stream().map(ValuePattern::text).toList(),
                rule.condition().isPresent());
    }

    /** Whether the rule's subject pattern matches {@code spiffeId}. */
    public boolean appliesTo(String spiffeId) {
        return SubjectPattern.parse(subject).matches(spiffeId);
    }

    /** The trust domain the subject pattern names ({@code example.org}). */
    public String trustDomain() {
        String rest = subject.substring("spiffe://".length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /** Whether any action or resource pattern is a wildcard ({@code *}) or a prefix ({@code https://*}). */
    public boolean broad() {
        return actions.stream().anyMatch(a -> a.endsWith("*")) || resources.stream().anyMatch(r -> r.endsWith("*"));
    }

    /** Whether {@code pattern} (a SPIFFE ID, a prefix ending in {@code /*}, or {@code *} per segment) matches {@code spiffeId}. */
    public static boolean subjectMatches(String pattern, String spiffeId) {
        return SubjectPattern.parse(pattern).matches(spiffeId);
    }
}
