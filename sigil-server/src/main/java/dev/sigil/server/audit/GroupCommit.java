package dev.sigil.server.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Batches concurrent standalone appends into one transaction each (one durable commit per batch).
 *
 * <p>Contract: {@link #append} returns only once the caller's own record is committed, and throws
 * when the batch it was in failed; every caller in a failed batch gets that failure (fail-closed).
 * There is no writer thread: a caller that finds no batch being written becomes the writer and
 * commits everything queued, while the others wait for their records. After releasing the writer
 * role a writer looks at the queue again, so a queued record is never left without a writer.
 *
 * <p>One caller cannot fail another's record with a malformed event: {@link AuditEvent} is validated
 * when it is built, so a batch fails only when its transaction does (datastore down, disk full,
 * damaged schema). A writer keeps writing while records keep arriving, so under sustained load one
 * caller may wait for more than its own batch.
 */
final class GroupCommit {
    static final int MAX_BATCH = 256;

    private record Pending(AuditEvent event, CompletableFuture<AuditRecord> result) {}

    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writer = new ReentrantLock();
    private final Function<List<AuditEvent>, List<AuditRecord>> commitBatch;

    /** {@code commitBatch} appends the events, in order, in one transaction and returns their records. */
    GroupCommit(Function<List<AuditEvent>, List<AuditRecord>> commitBatch) {
        this.commitBatch = commitBatch;
    }

    AuditRecord append(AuditEvent event) {
        Pending mine = new Pending(event, new CompletableFuture<>());
        queue.add(mine);
        // Whoever stops writing re-checks the queue, so a record queued while another caller held the
        // writer role is always picked up. A writer keeps writing while records arrive (bounded by load).
        while (!queue.isEmpty() && writer.tryLock()) {
            try {
                while (!queue.isEmpty()) {
                    writeOneBatch();
                }
            } finally {
                writer.unlock();
            }
        }
        try {
            return mine.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for an audit record to be committed; it may or may not be durable", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("audit batch failed: " + e.getCause(), e.getCause());
        }
    }

    /** Records waiting for a writer, for tests. */
    int queued() {
        return queue.size();
    }

    private void writeOneBatch() {
        List<Pending> batch = new ArrayList<>();
        Pending next;
        while (batch.size() < MAX_BATCH && (next = queue.poll()) != null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            return;
        }
        List<AuditRecord> records;
        try {
            records = commitBatch.apply(batch.stream().map(Pending::event).toList());
        } catch (RuntimeException | Error e) {
            batch.forEach(p -> p.result().completeExceptionally(e));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).result().complete(records.get(i));
        }
    }
}
