package dev.sigil.server.audit;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * The tamper-evident record of what happened. Records are appended, never changed: each carries the
 * hash of the one before it, so changing, deleting or reordering any record breaks the chain at
 * that record, which {@link #verify()} reports.
 *
 * <p>Guarantees: appends are linear even from several servers sharing one database (each append
 * locks the chain head in its transaction). An append made with {@link #append(Transaction, AuditEvent)}
 * commits or rolls back with the caller's change, so a change is never stored without its record
 * (fail-closed). Limits: an attacker who can rewrite the database may rewrite the whole chain from a
 * point on and the head with it; a trail created with {@link AuditCheckpoints} detects that below the
 * newest signed checkpoint.
 */
public interface AuditTrail {

    /** A trail without signed checkpoints: {@link #verify()} checks the hash chain only. */
    static AuditTrail create(Datastore datastore, Clock clock) {
        return new SqlAuditTrail(datastore, clock, Optional.empty());
    }

    /** A trail whose {@link #verify()} also checks every signed checkpoint against the chain. */
    static AuditTrail create(Datastore datastore, Clock clock, AuditCheckpoints checkpoints) {
        return new SqlAuditTrail(datastore, clock, Optional.of(checkpoints));
    }

    /**
     * Appends inside the caller's open transaction ({@code connection} must not be in auto-commit
     * mode). The record is durable only if the caller commits; an {@link SQLException} must make the
     * caller roll back (as {@link Datastore#inTransaction} does).
     */
    AuditRecord append(Transaction transaction, AuditEvent event) throws SQLException;

    /** Appends several records, in order, inside the caller's open transaction. */
    List<AuditRecord> appendAll(Transaction transaction, List<AuditEvent> events) throws SQLException;

    /**
     * Appends in a transaction of its own. Concurrent calls are group-committed: one transaction (one
     * durable commit) per batch; each call returns once its own record is committed and throws if its
     * batch failed, so every caller of a failed batch sees the failure.
     */
    AuditRecord append(AuditEvent event);

    /**
     * A caller's change that must be durable together with its audit record, such as the registry
     * row of an issued token. It runs inside the record's transaction and must only write through
     * {@code connection}; throwing rolls back both.
     */
    @FunctionalInterface
    interface Alongside {
        void write(Transaction transaction) throws SQLException;
    }

    /**
     * Commits {@code alongside} and the record in one transaction, group-committed like
     * {@link #append(AuditEvent)}: concurrent callers share one durable commit. Returns only once both
     * are committed; throws (and neither is stored) otherwise. Use it on hot paths where a transaction
     * per call would bound throughput by the disk's flush rate.
     */
    AuditRecord append(AuditEvent event, Alongside alongside);

    /** Appends several records, in order, in one transaction of their own (one durable commit). */
    List<AuditRecord> appendAll(List<AuditEvent> events);

    /** Checks the chain from the first record to the head. */
    AuditVerification verify();

    List<AuditRecord> query(AuditQuery query);
}
