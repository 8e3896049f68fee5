package dev.sigil.server.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Set;

/**
 * A decision as the admin API and the CLI show it: {@code decision} is {@code allow} or {@code deny};
 * {@code obligations} is present on allow only ({@code max_ttl_seconds}, {@code scopes}, {@code ssh_principals},
 * {@code source_address} and {@code force_command} absent (null) when unconstrained).
 */
public record DecisionJson(String decision, List<String> reasons, ObligationsJson obligations) {
    public record ObligationsJson(@JsonProperty("max_ttl_seconds") Long maxTtlSeconds, Set<String> scopes,
                                  @JsonProperty("require_mtls") boolean requireMtls,
                                  @JsonProperty("ssh_principals") Set<String> sshPrincipals,
                                  @JsonProperty("source_address") String sourceAddress,
                                  @JsonProperty("force_command") String forceCommand) {
    }

    public static DecisionJson of(Decision decision) {
        return switch (decision) {
            case Decision.Allow allow -> new DecisionJson("allow", allow.reasons(), new ObligationsJson(
                    allow.obligations().maxTtl().map(java.time.Duration::toSeconds).orElse(null),
                    allow.obligations().allowedScopes().map(java.util.TreeSet::new).orElse(null),
                    allow.obligations().requireMutualTls(),
                    allow.obligations().sshPrincipals().map(java.util.TreeSet::new).orElse(null),
                    allow.obligations().sourceAddresses().map(list -> String.join(",", list)).orElse(null),
                    allow.obligations().forceCommand().orElse(null)));
            case Decision.Deny deny -> new DecisionJson("deny", deny.reasons(), null);
        };
    }
}
