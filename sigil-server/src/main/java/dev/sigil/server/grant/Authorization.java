package dev.sigil.server.grant;

import dev.sigil.server.policy.Decision;
import dev.sigil.server.task.Task;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A request the pipeline allowed, with what the credential may carry. Only {@link GrantPipeline} makes
 * one, so holding one means every check passed.
 *
 * @param task          the active task the credential is bound to
 * @param holder        policy's allow for the holder (its obligations bind the credential)
 * @param actor         policy's allow for the actor, when there is one
 * @param scopes        the scopes granted: the request's (or policy's), narrowed by holder and actor
 * @param issuedAt      now, whole seconds
 * @param expiresAt     when the credential ends
 * @param maxExpiresAt  the latest any renewal may extend it to
 */
public record Authorization(Optional<Task> task, Decision.Allow holder, Optional<Decision.Allow> actor, Set<String> scopes,
                            Instant issuedAt, Instant expiresAt, Instant maxExpiresAt) {
    public Authorization {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(actor, "actor");
        scopes = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(scopes));
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(maxExpiresAt, "maxExpiresAt");
    }

    /** The holder's allow reasons (which rules matched), as audited with the grant. */
    public List<String> reasons() {
        return holder.reasons();
    }
}
