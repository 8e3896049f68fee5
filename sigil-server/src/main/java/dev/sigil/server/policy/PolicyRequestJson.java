package dev.sigil.server.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A policy request as JSON or YAML (admin API {@code POST /v1/policy/decide} and {@code sigil policy test}
 * fixtures), with the same names as the CEL context. Only {@code subject}, {@code action} and
 * {@code resource} are required; lists default to empty, {@code trust_level} to 0, {@code task} and
 * {@code attested_at} to none, {@code time} to now.
 */
public record PolicyRequestJson(String subject, List<String> selectors, @JsonProperty("trust_level") Integer trustLevel,
                                @JsonProperty("attested_at") Instant attestedAt, String action, String resource,
                                List<String> scopes, String task, List<String> delegation, Instant time,
                                Map<String, Object> claims) {
    /** @throws IllegalArgumentException naming the missing or malformed field */
    public PolicyRequest toRequest(Clock clock) {
        require(subject, "subject");
        require(action, "action");
        require(resource, "resource");
        Set<Selector> parsedSelectors = orEmpty(selectors).stream().map(Selector::parse)
                .collect(java.util.stream.Collectors.toSet());
        return new PolicyRequest(SpiffeId.parse(subject), parsedSelectors, trustLevel == null ? 0 : trustLevel,
                Optional.ofNullable(attestedAt), action, resource, orEmpty(scopes),
                Optional.ofNullable(task).filter(t -> !t.isEmpty()),
                orEmpty(delegation).stream().map(SpiffeId::parse).toList(), time == null ? clock.instant() : time,
                claims == null ? Map.of() : claims);
    }

    private static void require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("request field '" + field + "' is required");
        }
    }

    private static List<String> orEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }
}
