package dev.sigil.server.policy;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Policy requests for tests: a plain request and withers for the one field a test varies. */
record Requests(String subject, Set<Selector> selectors, int trustLevel, Optional<Instant> attestedAt, String action,
                String resource, List<String> scopes, Optional<String> task, Map<String, Object> claims) {
    static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

    static Requests of(String subject, String action, String resource) {
        return new Requests(subject, Set.of(), 0, Optional.empty(), action, resource, List.of(), Optional.empty(),
                Map.of());
    }

    Requests selectors(String... selectors) {
        return new Requests(subject, java.util.Arrays.stream(selectors).map(Selector::parse)
                .collect(java.util.stream.Collectors.toSet()), trustLevel, attestedAt, action, resource, scopes, task,
                claims);
    }

    Requests trustLevel(int level) {
        return new Requests(subject, selectors, level, attestedAt, action, resource, scopes, task, claims);
    }

    Requests task(String task) {
        return new Requests(subject, selectors, trustLevel, attestedAt, action, resource, scopes, Optional.of(task),
                claims);
    }

    Requests claims(Map<String, Object> claims) {
        return new Requests(subject, selectors, trustLevel, attestedAt, action, resource, scopes, task, claims);
    }

    Requests attestedAt(Instant at) {
        return new Requests(subject, selectors, trustLevel, Optional.of(at), action, resource, scopes, task, claims);
    }

    PolicyRequest build() {
        return new PolicyRequest(SpiffeId.parse(subject), selectors, trustLevel, attestedAt, action, resource, scopes,
                task, List.of(), NOW, claims);
    }
}
