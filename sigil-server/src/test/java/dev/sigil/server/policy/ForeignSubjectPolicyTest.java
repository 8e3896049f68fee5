package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Subjects from federated trust domains (a JWT-SVID of partner.test exchanged here): a rule's subject
 * pattern names exactly one trust domain, so only a rule naming the foreign trust domain can match a
 * foreign subject. Default deny: no pattern of this trust domain, however wide, reaches across.
 */
class ForeignSubjectPolicyTest {
    private static final String LOCAL_ONLY = """
            rules:
              - name: everything-local
                effect: allow
                subject:
                  spiffe_id: spiffe://td/*
                actions: ["*"]
                resources: ["*"]
              - name: any-api
                effect: allow
                subject:
                  spiffe_id: spiffe://td/*/api
                actions: [token:exchange]
                resources: ["*"]
            """;

    private static Decision decide(String yaml, String subject) {
        return CompiledPolicy.parse(yaml).decide(Requests.of(subject, "token:exchange", "https://api").build());
    }

    @Test
    void aForeignSubjectMatchesNoRuleOfThisTrustDomain() {
        assertThat(decide(LOCAL_ONLY, "spiffe://partner.test/web")).isInstanceOf(Decision.Deny.class);
        assertThat(decide(LOCAL_ONLY, "spiffe://partner.test/prod/api")).isInstanceOf(Decision.Deny.class);
        assertThat(decide(LOCAL_ONLY, "spiffe://td.partner.test/web")).isInstanceOf(Decision.Deny.class);
        assertThat(decide(LOCAL_ONLY, "spiffe://td/web")).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void aRuleNamingTheForeignTrustDomainMatchesItsSubjectsOnly() {
        String partner = LOCAL_ONLY + """
                  - name: partner-web
                    effect: allow
                    subject:
                      spiffe_id: spiffe://partner.test/web
                    actions: [token:exchange]
                    resources: [https://api]
                """;

        assertThat(decide(partner, "spiffe://partner.test/web")).isInstanceOf(Decision.Allow.class);
        assertThat(decide(partner, "spiffe://partner.test/db")).isInstanceOf(Decision.Deny.class);
        assertThat(decide(partner, "spiffe://elsewhere.test/web")).isInstanceOf(Decision.Deny.class);
    }
}
