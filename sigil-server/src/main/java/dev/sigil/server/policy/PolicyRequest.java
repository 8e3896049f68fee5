package dev.sigil.server.policy;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a policy decision may look at: who asks (the workload's SPIFFE ID, its attested selectors
 * and trust level), what for (action, resource or audience, scopes), under which task, on whose behalf
 * (the delegation chain, outermost actor first), and when. Built by the caller from verified evidence
 * only — never from claims the requester merely asserts.
 *
 * @param claims further verified attributes exposed to CEL conditions (e.g. JWT-SVID claims)
 */
public record PolicyRequest(SpiffeId subject, Set<Selector> selectors, int trustLevel, Optional<Instant> attestedAt,
                            String action, String resource, List<String> scopes, Optional<String> task,
                            List<SpiffeId> delegationChain, Instant time, Map<String, Object> claims) {
    public PolicyRequest {
        Objects.requireNonNull(subject, "subject");
        selectors = Set.copyOf(selectors);
        if (trustLevel < 0 || trustLevel > 3) {
            throw new IllegalArgumentException("trust level is " + trustLevel + "; valid levels are 0 to 3");
        }
        Objects.requireNonNull(attestedAt, "attestedAt");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        scopes = List.copyOf(scopes);
        Objects.requireNonNull(task, "task");
        delegationChain = List.copyOf(delegationChain);
        Objects.requireNonNull(time, "time");
        claims = Map.copyOf(claims);
    }
}
