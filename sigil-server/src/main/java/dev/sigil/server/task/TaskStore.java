package dev.sigil.server.task;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Stores tasks. Every change is audited in the same transaction ({@code task.create}, {@code task.end}),
 * so a change without its record is never stored. Ending a task runs the {@link EndListener} in that
 * transaction too, so credentials granted under the task are revoked atomically with the end.
 */
public interface TaskStore {
    Duration MAX_TTL = Duration.ofDays(30);

    /** Runs inside the transaction that ends a task (revokes what was granted under it). */
    @FunctionalInterface
    interface EndListener {
        void ended(Transaction transaction, String taskId, Instant at) throws SQLException;
    }

    static TaskStore create(Datastore datastore, AuditTrail audit, Clock clock, EndListener onEnd) {
        return new SqlTaskStore(datastore, audit, clock, onEnd);
    }

    /**
     * @throws IllegalArgumentException when a field is invalid (blank owner or purpose, no allowed pair,
     *                                  TTL not positive or above {@link #MAX_TTL})
     */
    Task create(String owner, SpiffeId holder, String purpose, List<Task.Permission> allowed, Duration ttl, String actor);

    /**
     * Ends an active task.
     *
     * @throws TaskException when there is no such task or it is not active
     */
    Task end(String id, String actor);

    Optional<Task> find(String id);

    /** Every task, newest first, at most {@code limit}. */
    List<Task> list(int limit);
}
