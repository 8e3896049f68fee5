package dev.sigil.server.grant;

import dev.sigil.core.Printable;
import java.util.List;
import java.util.Objects;

/**
 * The pipeline refused a verified holder; the refusal is already audited. Front doors map {@link #kind()}
 * to their own error (an OAuth error code, a lease refusal) and must not audit it again. The message names
 * what was wrong and is safe to return to the caller (clipped, printable).
 */
public final class GrantRefused extends RuntimeException {
    /** Why, in the terms of RFC 6749 / RFC 8693 errors, which every front door can map. */
    public enum Kind {
        /** Task missing, not active or held by another; policy denies; an obligation unmet; no lifetime left. */
        ACCESS_DENIED("access_denied"),
        /** The target is outside the task's boundary. */
        INVALID_TARGET("invalid_target"),
        /** A scope is outside the task, beyond the actor, or none of the requested may be granted. */
        INVALID_SCOPE("invalid_scope");

        private final String error;

        Kind(String error) {
            this.error = error;
        }

        /** The OAuth error code. */
        public String error() {
            return error;
        }
    }

    private final Kind kind;
    private final List<String> reasons;

    GrantRefused(Kind kind, String message, List<String> reasons) {
        super(Printable.clip(message, 1000), null, false, false);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.reasons = List.copyOf(reasons);
    }

    public Kind kind() {
        return kind;
    }

    /** The policy or check reasons, as audited. */
    public List<String> reasons() {
        return reasons;
    }
}
