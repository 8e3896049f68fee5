package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The SSH certificate obligations: ssh_principals, source_address and force_command. */
class SshObligationsTest {
    private static String rule(String name, String obligations) {
        return """
                  - name: %s
                    effect: allow
                    subject: {spiffe_id: "spiffe://td/*"}
                    actions: [credential:issue]
                    resources: [prod-hosts]
                    obligations: %s
                """.formatted(name, obligations);
    }

    private static Decision decide(String... rules) {
        CompiledPolicy policy = CompiledPolicy.parse("rules:\n" + String.join("", rules));
        return policy.decide(Requests.of("spiffe://td/web", "credential:issue", "prod-hosts").build());
    }

    private static Decision.Obligations obligations(String... rules) {
        Decision decision = decide(rules);
        assertThat(decision).isInstanceOf(Decision.Allow.class);
        return ((Decision.Allow) decision).obligations();
    }

    private static PolicyDocumentException refusal(String obligations) {
        return catchThrowableOfType(PolicyDocumentException.class,
                () -> CompiledPolicy.parse("rules:\n" + rule("r", obligations)));
    }

    @Test
    void sshObligationsAreParsed() {
        Decision.Obligations o = obligations(rule("r",
                "{ssh_principals: [deploy, ops], source_address: \"10.0.0.0/8, 192.0.2.7\", force_command: \"/usr/bin/backup --now\"}"));

        assertThat(o.sshPrincipals()).contains(Set.of("deploy", "ops"));
        assertThat(o.sourceAddresses()).contains(List.of("10.0.0.0/8", "192.0.2.7/32"));
        assertThat(o.forceCommand()).contains("/usr/bin/backup --now");
    }

    @Test
    void rulesWithoutSshObligationsLeaveThemUnconstrained() {
        Decision.Obligations o = obligations(rule("r", "{max_ttl: 5m}"));

        assertThat(o.sshPrincipals()).isEmpty();
        assertThat(o.sourceAddresses()).isEmpty();
        assertThat(o.forceCommand()).isEmpty();
    }

    @Test
    void principalsOfSeveralAllowsCombineByIntersection() {
        Decision.Obligations o = obligations(rule("a", "{ssh_principals: [deploy, ops]}"),
                rule("b", "{ssh_principals: [ops, root]}"), rule("c", "{max_ttl: 5m}"));

        assertThat(o.sshPrincipals()).contains(Set.of("ops"));
    }

    @Test
    void disjointPrincipalsCombineToNone() {
        assertThat(obligations(rule("a", "{ssh_principals: [deploy]}"), rule("b", "{ssh_principals: [ops]}"))
                .sshPrincipals()).contains(Set.of());
    }

    @Test
    void sourceAddressesCombineToTheAddressesInsideEveryRule() {
        Decision.Obligations o = obligations(rule("a", "{source_address: \"10.0.0.0/8,192.0.2.0/24\"}"),
                rule("b", "{source_address: \"10.1.0.0/16,198.51.100.1\"}"));

        assertThat(o.sourceAddresses()).contains(List.of("10.1.0.0/16"));
    }

    @Test
    void sameForceCommandCombines() {
        assertThat(obligations(rule("a", "{force_command: /bin/true}"), rule("b", "{force_command: /bin/true}"))
                .forceCommand()).contains("/bin/true");
    }

    @Test
    void differentForceCommandsDenyTheRequest() {
        Decision decision = decide(rule("a", "{force_command: /bin/true}"), rule("b", "{force_command: /bin/false}"));

        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reasons().getFirst()).contains("different force_command").contains("/bin/false");
    }

    @Test
    void emptyPrincipalListIsRefused() {
        assertThat(refusal("{ssh_principals: []}").reason()).contains("ssh_principals is empty");
    }

    @Test
    void principalWithSeparatorIsRefusedNamingIt() {
        assertThat(refusal("{ssh_principals: [\"ops,root\"]}").reason()).contains("ssh principal 'ops,root'");
    }

    @Test
    void hostNameAsSourceAddressIsRefused() {
        assertThat(refusal("{source_address: db.example.com}").reason())
                .contains("source address 'db.example.com'").contains("host names are not allowed");
    }

    @Test
    void sourceAddressWithHostBitsIsRefusedSuggestingTheBlock() {
        assertThat(refusal("{source_address: 10.1.2.3/8}").reason()).contains("host bits set; use 10.0.0.0/8");
    }

    @Test
    void badPrefixLengthIsRefused() {
        assertThat(refusal("{source_address: 10.0.0.0/33}").reason()).contains("invalid prefix length; use 0 to 32");
    }

    @Test
    void ipv6BlocksAreAccepted() {
        assertThat(SourceAddresses.parse("2001:db8::/32,::1")).containsExactly("2001:db8:0:0:0:0:0:0/32", "0:0:0:0:0:0:0:1/128");
    }

    @Test
    void multiLineForceCommandIsRefused() {
        assertThat(refusal("{force_command: \"a\\nb\"}").reason()).contains("must be a non-blank command on one line");
    }

    @Test
    void oldConstructorStillMeansNoSshConstraints() {
        assertThat(new Decision.Obligations(Optional.empty(), Optional.empty(), false)).isEqualTo(Decision.Obligations.none());
        assertThatThrownBy(() -> SourceAddresses.parse(" ")).isInstanceOf(IllegalArgumentException.class);
    }
}
