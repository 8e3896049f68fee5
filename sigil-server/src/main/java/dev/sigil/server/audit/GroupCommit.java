package dev.sigil.server.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
 * when it is built, so a batch of plain events fails only when its transaction does (datastore down,
 * disk full, damaged schema). A batch that also carries callers' own changes ({@link Write#alongside})
 * is retried one write at a time when it fails, so a change that fails on its own fails only its caller. A writer keeps writing while records keep arriving, so under sustained load one
 * caller may wait for more than its own batch.
 */
final class GroupCommit {
    static final int MAX_BATCH = 256;

    /** One queued append: the event and, optionally, the caller's change that must commit with it. */
    record Write(AuditEvent event, Optional<AuditTrail.Alongside> alongside) {
    }

    private record Pending(Write write, CompletableFuture<AuditRecord> result) {}

    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writer = new ReentrantLock();
    private final Function<List<Write>, List<AuditRecord>> commitBatch;

    /**
     * {@code commitBatch} runs every write's change and appends its event, in order, in one
     * transaction, and returns the records.
     */
    GroupCommit(Function<List<Write>, List<AuditRecord>> commitBatch) {
        this.commitBatch = commitBatch;
    }

    AuditRecord append(AuditEvent event) {
        return append(new Write(event, Optional.empty()));
    }

    AuditRecord append(Write write) {
        Pending mine = new Pending(write, new CompletableFuture<>());
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
            records = commitBatch.apply(batch.stream().map(Pending::write).toList());
        } catch (RuntimeException | Error e) {
            if (batch.size() > 1 && batch.stream().anyMatch(p -> p.write().alongside().isPresent())) {
                // A caller's own change (unlike a validated event) can fail on its own, e.g. on a
                // constraint: retry each write alone so one caller's failure never fails another's.
                batch.forEach(this::writeAlone);
            } else {
                batch.forEach(p -> p.result().completeExceptionally(e));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).result().complete(records.get(i));
        }
    }

    private void writeAlone(Pending pending) {
        try {
            pending.result().complete(commitBatch.apply(List.of(pending.write())).getFirst());
        } catch (RuntimeException | Error e) {
            pending.result().completeExceptionally(e);
        }
    }
}
