package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which leases to list or revoke; every present criterion must match. An id prefix has at least
 * {@value #MIN_PREFIX} characters, so a typo cannot select every lease.
 */
public record LeaseFilter(Optional<LeaseId> id, Optional<SpiffeId> holder, Optional<String> task, Optional<SpiffeId> agent,
                          Optional<String> broker, Optional<String> prefix, Optional<LeaseState> state) {
    public static final int MIN_PREFIX = 4;
    private static final Pattern PREFIX = Pattern.compile("[a-z2-7]{" + MIN_PREFIX + "," + LeaseId.LENGTH + "}");

    public LeaseFilter {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(broker, "broker");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(state, "state");
        prefix.ifPresent(p -> {
            if (!PREFIX.matcher(p).matches()) {
                throw new IllegalArgumentException("lease id prefix '" + p + "' must be " + MIN_PREFIX + " to " + LeaseId.LENGTH
                        + " characters of a-z and 2-7");
            }
        });
    }

    public static LeaseFilter all() {
        return new LeaseFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    public LeaseFilter withId(LeaseId value) {
        return new LeaseFilter(Optional.of(value), holder, task, agent, broker, prefix, state);
    }

    public LeaseFilter withHolder(SpiffeId value) {
        return new LeaseFilter(id, Optional.of(value), task, agent, broker, prefix, state);
    }

    public LeaseFilter withTask(String value) {
        return new LeaseFilter(id, holder, Optional.of(value), agent, broker, prefix, state);
    }

    public LeaseFilter withAgent(SpiffeId value) {
        return new LeaseFilter(id, holder, task, Optional.of(value), broker, prefix, state);
    }

    public LeaseFilter withBroker(String value) {
        return new LeaseFilter(id, holder, task, agent, Optional.of(value), prefix, state);
    }

    public LeaseFilter withPrefix(String value) {
        return new LeaseFilter(id, holder, task, agent, broker, Optional.of(value), state);
    }

    public LeaseFilter withState(LeaseState value) {
        return new LeaseFilter(id, holder, task, agent, broker, prefix, Optional.of(value));
    }

    /** True when no criterion selects anything (revoking with such a filter is refused). */
    public boolean isEmpty() {
        return id.isEmpty() && holder.isEmpty() && task.isEmpty() && agent.isEmpty() && broker.isEmpty() && prefix.isEmpty();
    }

    /** The criteria as text for audit records. */
    public String describe() {
        StringBuilder text = new StringBuilder();
        id.ifPresent(v -> text.append(" id=").append(v));
        holder.ifPresent(v -> text.append(" holder=").append(v));
        task.ifPresent(v -> text.append(" task=").append(v));
        agent.ifPresent(v -> text.append(" agent=").append(v));
        broker.ifPresent(v -> text.append(" broker=").append(v));
        prefix.ifPresent(v -> text.append(" prefix=").append(v));
        state.ifPresent(v -> text.append(" state=").append(v.wireName()));
        return text.isEmpty() ? "all" : text.substring(1);
    }
}
