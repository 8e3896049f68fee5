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
public record PolicyRequestJson(String subject, Optional<List<String>> selectors,
                                @JsonProperty("trust_level") Optional<Integer> trustLevel,
                                @JsonProperty("attested_at") Optional<Instant> attestedAt, String action,
                                String resource, Optional<List<String>> scopes, Optional<String> task,
                                Optional<List<String>> delegation, Optional<Instant> time,
                                Optional<Map<String, Object>> claims) {
    /** @throws IllegalArgumentException naming the missing or malformed field */
    public PolicyRequest toRequest(Clock clock) {
        require(subject, "subject");
        require(action, "action");
        require(resource, "resource");
        Set<Selector> parsedSelectors = orEmpty(selectors).stream().map(Selector::parse)
                .collect(java.util.stream.Collectors.toSet());
        return new PolicyRequest(SpiffeId.parse(subject), parsedSelectors, orNone(trustLevel).orElse(0),
                orNone(attestedAt), action, resource, orEmpty(scopes), orNone(task).filter(t -> !t.isEmpty()),
                orEmpty(delegation).stream().map(SpiffeId::parse).toList(), orNone(time).orElseGet(clock::instant),
                orNone(claims).orElse(Map.of()));
    }

    private static void require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("request field '" + field + "' is required");
        }
    }

    private static List<String> orEmpty(Optional<List<String>> list) {
        return orNone(list).orElse(List.of());
    }

    /** Tolerates a null Optional from mappers that leave absent fields null. */
    private static <T> Optional<T> orNone(Optional<T> value) {
        return value == null ? Optional.empty() : value;
    }
}
