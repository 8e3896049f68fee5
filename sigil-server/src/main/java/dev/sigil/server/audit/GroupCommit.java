package dev.sigil.server.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Batches concurrent standalone appends into one transaction each (one durable commit per batch).
 *
 * <p>Contract: {@link #append} returns only once the caller's own record is committed, and throws
 * when the batch it was in failed; every caller in a failed batch gets that failure (fail-closed).
 * There is no writer thread: a caller that finds no batch being written becomes the writer and
 * commits batches from the head of the queue until its own record is committed, while the others wait for
 * theirs. It then goes on with batches already queued for at most {@code continueNanos} after its own
 * record was committed (so the database is not idle while the next writer wakes up, which on busy cores
 * takes longer than a batch), and hands the writer role to the caller at the head of the queue, if any,
 * and returns. So a caller waits for at most the batches queued ahead of it, its own, and what its
 * continuation budget allows (the budget plus one batch started within it), never for every record that
 * arrives after it (a writer that kept writing while records arrive would answer its own request only when
 * the queue ran dry, which under sustained load is seconds later), and a queued record is never left
 * without a writer: whoever releases the writer role with records queued wakes the caller at the head.
 *
 * <p>One caller cannot fail another's record with a malformed event: {@link AuditEvent} is validated
 * when it is built, so a batch of plain events fails only when its transaction does (datastore down,
 * disk full, damaged schema). A batch that also carries callers' own changes ({@link Write#alongside})
 * is retried one write at a time when it fails, so a change that fails on its own fails only its caller.
 */
final class GroupCommit {
    static final int MAX_BATCH = 256;
    /** How long a writer whose own record is committed goes on writing queued batches before handing off. */
    static final long CONTINUE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    /** One queued append: the event and, optionally, the caller's change that must commit with it. */
    record Write(AuditEvent event, Optional<AuditTrail.Alongside> alongside) {
    }

    /** A queued append; {@code wake} gets a permit when its record is done or it is handed the writer role. */
    private record Pending(Write write, CompletableFuture<AuditRecord> result, Semaphore wake) {
        void complete(AuditRecord record) {
            result.complete(record);
            wake.release();
        }

        void fail(Throwable failure) {
            result.completeExceptionally(failure);
            wake.release();
        }
    }

    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writer = new ReentrantLock();
    private final Function<List<Write>, List<AuditRecord>> commitBatch;
    private final LongSupplier nanoTime;
    private final long continueNanos;

    /**
     * {@code commitBatch} runs every write's change and appends its event, in order, in one
     * transaction, and returns the records.
     */
    GroupCommit(Function<List<Write>, List<AuditRecord>> commitBatch) {
        this(commitBatch, System::nanoTime, CONTINUE_NANOS);
    }

    GroupCommit(Function<List<Write>, List<AuditRecord>> commitBatch, LongSupplier nanoTime, long continueNanos) {
        this.commitBatch = commitBatch;
        this.nanoTime = nanoTime;
        this.continueNanos = continueNanos;
    }

    AuditRecord append(AuditEvent event) {
        return append(new Write(event, Optional.empty()));
    }

    AuditRecord append(Write write) {
        Pending mine = new Pending(write, new CompletableFuture<>(), new Semaphore(0));
        queue.add(mine);
        while (!mine.result().isDone()) {
            if (writer.tryLock()) {
                try {
                    while (!mine.result().isDone() && !queue.isEmpty()) {
                        writeOneBatch();
                    }
                    if (mine.result().isDone()) {
                        long committedAt = nanoTime.getAsLong();
                        while (!queue.isEmpty() && nanoTime.getAsLong() - committedAt < continueNanos) {
                            writeOneBatch();
                        }
                    }
                } finally {
                    writer.unlock();
                }
                handOff();
            } else {
                // the writer (or a later one) commits this record or hands this caller the role
                mine.wake().acquireUninterruptibly();
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

    /**
     * Called after releasing the writer role: wakes the caller at the head of the queue to take it. If
     * another caller took the role meanwhile, the woken one finds it held and waits again; that writer
     * hands off in turn when it leaves.
     */
    private void handOff() {
        Pending head = queue.peek();
        if (head != null) {
            head.wake().release();
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
                batch.forEach(p -> p.fail(e));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).complete(records.get(i));
        }
    }

    private void writeAlone(Pending pending) {
        try {
            pending.complete(commitBatch.apply(List.of(pending.write())).getFirst());
        } catch (RuntimeException | Error e) {
            pending.fail(e);
        }
    }
}
