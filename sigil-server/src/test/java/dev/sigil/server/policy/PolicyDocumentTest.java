package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PolicyDocumentTest {
    private static PolicyDocumentException refusal(String yaml) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> CompiledPolicy.parse(yaml));
        assertThat(thrown).isInstanceOf(PolicyDocumentException.class);
        return (PolicyDocumentException) thrown;
    }

    private static String rule(String extra) {
        return """
                rules:
                  - name: web
                    effect: allow
                    subject:
                      spiffe_id: spiffe://td/web
                    actions: [token:exchange]
                    resources: [https://api]
                """ + extra;
    }

    @Test
    void emptyDocumentHasNoRules() {
        assertThat(CompiledPolicy.parse("").ruleCount()).isZero();
        assertThat(CompiledPolicy.parse("rules: []").ruleCount()).isZero();
    }

    @Test
    void unknownFieldIsRefusedWithItsLine() {
        PolicyDocumentException e = refusal(rule("    colour: blue\n"));

        assertThat(e.line()).isEqualTo(8);
        assertThat(e.reason()).contains("unknown field 'colour'").contains("valid fields are");
    }

    @Test
    void unknownSubjectFieldIsRefusedWithItsLine() {
        PolicyDocumentException e = refusal(rule("").replace("spiffe_id: spiffe://td/web",
                "spiffe_id: spiffe://td/web\n      trust: 2"));

        assertThat(e.line()).isEqualTo(6);
        assertThat(e.reason()).contains("unknown field 'trust'");
    }

    @Test
    void conditionThatDoesNotCompileIsRefusedWithItsLine() {
        PolicyDocumentException e = refusal(rule("    condition: request.nope == \"x\"\n"));

        assertThat(e.line()).isEqualTo(8);
        assertThat(e.reason()).contains("rule 'web'").contains("condition does not compile");
    }

    @Test
    void conditionWithSyntaxErrorIsRefused() {
        assertThat(refusal(rule("    condition: request.trust_level >=\n")).reason()).contains("does not compile");
    }

    @Test
    void nonBooleanConditionIsRefused() {
        PolicyDocumentException e = refusal(rule("    condition: request.trust_level + 1\n"));

        assertThat(e.line()).isEqualTo(8);
        assertThat(e.reason()).contains("must be a bool expression");
    }

    @Test
    void badDurationIsRefusedWithItsLine() {
        PolicyDocumentException e = refusal(rule("    obligations:\n      max_ttl: five minutes\n"));

        assertThat(e.line()).isEqualTo(9);
        assertThat(e.reason()).contains("rule 'web'");
    }

    @Test
    void badPatternsAreRefused() {
        assertThat(refusal(rule("").replace("spiffe://td/web", "spiffe://td/we*b")).reason())
                .contains("'*' inside segment 'we*b'");
        assertThat(refusal(rule("").replace("https://api", "https://*.api")).reason())
                .contains("only a trailing '*'");
        assertThat(refusal(rule("").replace("spiffe://td/web", "https://web")).reason())
                .contains("must start with spiffe://");
    }

    @Test
    void badEffectTaskAndTrustLevelAreRefused() {
        assertThat(refusal(rule("").replace("effect: allow", "effect: permit")).reason())
                .contains("effect 'permit' is not valid; use allow or deny");
        assertThat(refusal(rule("    tasks: maybe\n")).reason()).contains("use required, forbidden or any");
        assertThat(refusal(rule("").replace("spiffe_id: spiffe://td/web",
                "spiffe_id: spiffe://td/web\n      min_trust_level: 4")).reason()).contains("use 0, 1, 2 or 3");
    }

    @Test
    void duplicateRuleNamesAreRefused() {
        String yaml = rule("") + rule("").substring("rules:\n".length());

        assertThat(refusal(yaml).reason()).contains("rule name 'web' is used twice");
    }

    @Test
    void obligationsOnDenyRulesAreRefused() {
        assertThat(refusal(rule("    obligations: {max_ttl: 5m}\n").replace("effect: allow", "effect: deny")).reason())
                .contains("only valid on allow rules");
    }

    @Test
    void malformedYamlIsRefusedWithALine() {
        assertThatThrownBy(() -> CompiledPolicy.parse("rules:\n  - name: [unclosed\n"))
                .isInstanceOf(PolicyDocumentException.class).hasMessageContaining("not valid yaml");
    }

    @Test
    void secondYamlDocumentIsRefused() {
        assertThat(refusal(rule("---\nrules: []\n")).reason()).contains("a second yaml document follows");
    }

    @Test
    void exactSubjectMustBeAValidSpiffeId() {
        assertThat(refusal(rule("").replace("spiffe://td/web", "spiffe://td/web/")).reason())
                .contains("is not a valid spiffe id");
    }

    @Test
    void malformedSelectorIsRefusedWithItsLine() {
        PolicyDocumentException e = refusal(rule("").replace("spiffe_id: spiffe://td/web",
                "spiffe_id: spiffe://td/web\n      selectors: [\"no-colon\"]"));

        assertThat(e.line()).isEqualTo(6);
        assertThat(e.reason()).contains("rule 'web'").contains("no-colon");
    }
}
