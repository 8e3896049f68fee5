package dev.sigil.server.task;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A declared unit of work: who owns it, which workload holds it, why, and the {@code action:resource}
 * pairs credentials may be granted for under it, until {@code expiresAt} or until it is ended.
 */
public record Task(String id, String owner, SpiffeId holder, String purpose, List<Permission> allowed,
                   Instant createdAt, Instant expiresAt, Optional<Instant> endedAt) {
    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(purpose, "purpose");
        allowed = List.copyOf(allowed);
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(endedAt, "endedAt");
    }

    public enum State {
        ACTIVE, ENDED, EXPIRED;

        public String wireName() {
            return name().toLowerCase();
        }
    }

    /** The state at {@code now}: ended wins over expired. */
    public State state(Instant now) {
        if (endedAt.isPresent()) {
            return State.ENDED;
        }
        return now.isBefore(expiresAt) ? State.ACTIVE : State.EXPIRED;
    }

    /** True when {@code action} on {@code resource} is inside the task's boundary (action {@code *} allows any). */
    public boolean allows(String action, String resource) {
        return allowed.stream().anyMatch(p -> p.resource().equals(resource) && (p.action().equals("*") || p.action().equals(action)));
    }

    /** True when some action on {@code resource} is allowed. */
    public boolean allowsResource(String resource) {
        return allowed.stream().anyMatch(p -> p.resource().equals(resource));
    }

    /** One allowed pair; written {@code action:resource}, split at the first colon (resources may hold colons). */
    public record Permission(String action, String resource) {
        public Permission {
            if (action == null || action.isBlank() || action.contains(":") || action.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("task action '" + action + "' must be a non-empty word without ':' or spaces");
            }
            if (resource == null || resource.isBlank() || resource.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw new IllegalArgumentException("task resource '" + resource + "' must be non-empty, without spaces");
            }
        }

        public static Permission parse(String text) {
            int colon = text == null ? -1 : text.indexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("allowed entry '" + text + "' must be ACTION:RESOURCE, such as read:https://api.example.com");
            }
            return new Permission(text.substring(0, colon), text.substring(colon + 1));
        }

        @Override
        public String toString() {
            return action + ":" + resource;
        }
    }
}
