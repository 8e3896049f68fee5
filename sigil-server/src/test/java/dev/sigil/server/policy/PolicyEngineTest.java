package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {
    private static final String WEB_TO_API = """
            rules:
              - name: web-to-api
                effect: allow
                subject:
                  spiffe_id: spiffe://td/web
                actions: [token:exchange]
                resources: [https://api]
            """;

    private static Decision decide(String yaml, Requests request) {
        return CompiledPolicy.parse(yaml).decide(request.build());
    }

    @Test
    void emptyPolicyDeniesEverything() {
        Decision decision = CompiledPolicy.empty().decide(Requests.of("spiffe://td/web", "token:exchange", "https://api").build());

        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reasons()).singleElement().asString().contains("default deny");
    }

    @Test
    void matchingAllowRuleAllowsAndNamesItsReason() {
        Decision decision = decide(WEB_TO_API, Requests.of("spiffe://td/web", "token:exchange", "https://api"));

        assertThat(decision).isInstanceOf(Decision.Allow.class);
        assertThat(decision.reasons()).containsExactly("rule 'web-to-api' allowed: subject spiffe://td/web matched "
                + "spiffe://td/web, action token:exchange, resource https://api");
    }

    @Test
    void requestMatchingNoRuleIsDeniedByDefault() {
        assertThat(decide(WEB_TO_API, Requests.of("spiffe://td/web", "token:exchange", "https://other")))
                .isInstanceOf(Decision.Deny.class);
        assertThat(decide(WEB_TO_API, Requests.of("spiffe://td/db", "token:exchange", "https://api")))
                .isInstanceOf(Decision.Deny.class);
        assertThat(decide(WEB_TO_API, Requests.of("spiffe://td/web", "credential:issue", "https://api")))
                .isInstanceOf(Decision.Deny.class);
    }

    @Test
    void denyOverridesAllow() {
        String yaml = WEB_TO_API + """
                  - name: no-api-for-anyone
                    effect: deny
                    subject: {spiffe_id: "spiffe://td/*"}
                    actions: ["*"]
                    resources: ["https://api*"]
                """;

        Decision decision = decide(yaml, Requests.of("spiffe://td/web", "token:exchange", "https://api"));

        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reasons()).anySatisfy(r -> assertThat(r).startsWith("rule 'no-api-for-anyone' denied"))
                .anySatisfy(r -> assertThat(r).startsWith("rule 'web-to-api' allowed"));
    }

    @Test
    void prefixAndGlobSubjectsMatchByWholeSegments() {
        String yaml = """
                rules:
                  - name: dev
                    effect: allow
                    subject: {spiffe_id: "spiffe://td/dev/*"}
                    actions: [token:exchange]
                    resources: ["*"]
                  - name: any-api
                    effect: allow
                    subject: {spiffe_id: "spiffe://td/*/api"}
                    actions: [token:exchange]
                    resources: ["*"]
                """;

        assertThat(decide(yaml, Requests.of("spiffe://td/dev/a/b", "token:exchange", "x"))).isInstanceOf(Decision.Allow.class);
        assertThat(decide(yaml, Requests.of("spiffe://td/dev", "token:exchange", "x"))).isInstanceOf(Decision.Deny.class);
        assertThat(decide(yaml, Requests.of("spiffe://td/devx/a", "token:exchange", "x"))).isInstanceOf(Decision.Deny.class);
        assertThat(decide(yaml, Requests.of("spiffe://td/prod/api", "token:exchange", "x"))).isInstanceOf(Decision.Allow.class);
        assertThat(decide(yaml, Requests.of("spiffe://td/prod/api/v2", "token:exchange", "x"))).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void selectorsTrustLevelAndTasksMustAllHold() {
        String yaml = """
                rules:
                  - name: strict
                    effect: allow
                    subject:
                      spiffe_id: spiffe://td/web
                      selectors: ["k8s:ns:prod", "unix:uid:1000"]
                      min_trust_level: 2
                    actions: [token:exchange]
                    resources: [https://api]
                    tasks: required
                """;
        Requests ok = Requests.of("spiffe://td/web", "token:exchange", "https://api")
                .selectors("k8s:ns:prod", "unix:uid:1000", "unix:gid:5").trustLevel(2).task("t-1");

        assertThat(decide(yaml, ok)).isInstanceOf(Decision.Allow.class);
        assertThat(decide(yaml, ok.selectors("k8s:ns:prod"))).isInstanceOf(Decision.Deny.class);
        assertThat(decide(yaml, ok.trustLevel(1))).isInstanceOf(Decision.Deny.class);
        assertThat(decide(yaml, Requests.of("spiffe://td/web", "token:exchange", "https://api")
                .selectors("k8s:ns:prod", "unix:uid:1000").trustLevel(3))).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void forbiddenTasksRuleDoesNotMatchARequestUnderATask() {
        String yaml = WEB_TO_API + "    tasks: forbidden\n";
        Requests request = Requests.of("spiffe://td/web", "token:exchange", "https://api");

        assertThat(decide(yaml, request)).isInstanceOf(Decision.Allow.class);
        assertThat(decide(yaml, request.task("t-1"))).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void conditionSeesTheDeclaredContext() {
        String yaml = WEB_TO_API + """
                    condition: >-
                      request.subject == "spiffe://td/web" && request.trust_level >= 1
                      && "k8s:ns:prod" in request.selectors && request.claims["team"] == "blue"
                      && request.time > timestamp("2026-01-01T00:00:00Z") && request.task == ""
                      && request.attested_at == null && size(request.delegation) == 0
                """;
        Requests request = Requests.of("spiffe://td/web", "token:exchange", "https://api")
                .selectors("k8s:ns:prod").trustLevel(1).claims(Map.of("team", "blue"));

        Decision decision = decide(yaml, request);

        assertThat(decision).isInstanceOf(Decision.Allow.class);
        assertThat(decision.reasons()).singleElement().asString().endsWith("condition held");
        assertThat(decide(yaml, request.claims(Map.of("team", "red")))).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void attestationTimeIsATimestampWhenPresent() {
        String yaml = WEB_TO_API + """
                    condition: request.attested_at != null && request.time - request.attested_at < duration("1h")
                """;
        Requests request = Requests.of("spiffe://td/web", "token:exchange", "https://api");

        assertThat(decide(yaml, request.attestedAt(Requests.NOW.minusSeconds(60)))).isInstanceOf(Decision.Allow.class);
        assertThat(decide(yaml, request.attestedAt(Requests.NOW.minusSeconds(7200)))).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void allowConditionThatFailsToEvaluateDoesNotMatch() {
        String yaml = WEB_TO_API + "    condition: request.claims[\"missing\"] == \"x\"\n";

        Decision decision = decide(yaml, Requests.of("spiffe://td/web", "token:exchange", "https://api"));

        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reasons()).anySatisfy(r -> assertThat(r)
                .contains("rule 'web-to-api' condition failed to evaluate").contains("no match for an allow rule"));
    }

    @Test
    void denyConditionThatFailsToEvaluateMatches() {
        String yaml = WEB_TO_API + """
                  - name: block-red
                    effect: deny
                    subject: {spiffe_id: spiffe://td/web}
                    actions: ["*"]
                    resources: ["*"]
                    condition: request.claims["team"] == "red"
                """;

        Decision decision = decide(yaml, Requests.of("spiffe://td/web", "token:exchange", "https://api"));

        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reasons()).anySatisfy(r -> assertThat(r).startsWith("rule 'block-red' denied")
                .contains("failed to evaluate").contains("counted as a match for a deny rule"));
    }

    @Test
    void obligationsOfSeveralAllowsCombineToTheStrictest() {
        String yaml = """
                rules:
                  - name: a
                    effect: allow
                    subject: {spiffe_id: spiffe://td/web}
                    actions: [token:exchange]
                    resources: ["*"]
                    obligations: {max_ttl: 10m, scopes: [read, write]}
                  - name: b
                    effect: allow
                    subject: {spiffe_id: "spiffe://td/*"}
                    actions: ["token:*"]
                    resources: [https://api]
                    obligations: {max_ttl: 5m, scopes: [read, admin], require_mtls: true}
                  - name: c
                    effect: allow
                    subject: {spiffe_id: spiffe://td/web}
                    actions: [token:exchange]
                    resources: ["*"]
                """;

        Decision decision = decide(yaml, Requests.of("spiffe://td/web", "token:exchange", "https://api"));

        assertThat(decision).isInstanceOfSatisfying(Decision.Allow.class, allow -> {
            assertThat(allow.reasons()).hasSize(3);
            assertThat(allow.obligations()).isEqualTo(new Decision.Obligations(Optional.of(Duration.ofMinutes(5)),
                    Optional.of(Set.of("read")), true));
        });
    }
}
