package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    @Test
    void callersQueuedBehindAWriterAreCommittedTogetherInOneBatch() throws Exception {
        CountDownLatch firstBatchStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstBatch = new CountDownLatch(1);
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        AtomicLong seq = new AtomicLong();
        GroupCommit group = new GroupCommit(events -> {
            batchSizes.add(events.size());
            if (batchSizes.size() == 1) {
                firstBatchStarted.countDown();
                await(releaseFirstBatch);
            }
            return events.stream().map(w -> record(seq.incrementAndGet(), w.event())).toList();
        });
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Future<AuditRecord> first = pool.submit(() -> group.append(event("first")));
            assertThat(firstBatchStarted.await(5, TimeUnit.SECONDS)).isTrue();
            List<Future<AuditRecord>> queued = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                String subject = "queued-" + i;
                queued.add(pool.submit(() -> group.append(event(subject))));
            }
            waitUntilQueued(group, 7);
            releaseFirstBatch.countDown();

            assertThat(first.get(5, TimeUnit.SECONDS).subject()).isEqualTo("first");
            for (int i = 0; i < 7; i++) {
                assertThat(queued.get(i).get(5, TimeUnit.SECONDS).subject()).isEqualTo("queued-" + i);
            }
            assertThat(batchSizes).containsExactly(1, 7);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void writerAnswersOnceItsOwnRecordIsCommittedAndHandsTheRestToAQueuedCaller() throws Exception {
        CountDownLatch firstBatchStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstBatch = new CountDownLatch(1);
        CountDownLatch secondBatchStarted = new CountDownLatch(1);
        CountDownLatch releaseSecondBatch = new CountDownLatch(1);
        List<String> writers = new CopyOnWriteArrayList<>();
        AtomicLong seq = new AtomicLong();
        GroupCommit group = new GroupCommit(events -> {
            writers.add(Thread.currentThread().getName());
            if (writers.size() == 1) {
                firstBatchStarted.countDown();
                await(releaseFirstBatch);
            } else if (writers.size() == 2) {
                secondBatchStarted.countDown();
                await(releaseSecondBatch);
            }
            return events.stream().map(w -> record(seq.incrementAndGet(), w.event())).toList();
        }, System::nanoTime, 0); // no continuation budget: the writer hands off as soon as its own record is in
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<AuditRecord> first = pool.submit(() -> group.append(event("first")));
            assertThat(firstBatchStarted.await(5, TimeUnit.SECONDS)).isTrue();
            List<Future<AuditRecord>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String subject = "queued-" + i;
                queued.add(pool.submit(() -> group.append(event(subject))));
            }
            waitUntilQueued(group, 3);
            releaseFirstBatch.countDown();
            assertThat(secondBatchStarted.await(5, TimeUnit.SECONDS)).isTrue();

            // the first caller's record is committed: it answers while the batch of later arrivals is still
            // being written, by one of those later callers, not by it
            assertThat(first.get(5, TimeUnit.SECONDS).subject()).isEqualTo("first");
            assertThat(queued).noneMatch(Future::isDone);
            assertThat(writers.get(1)).isNotEqualTo(writers.get(0));

            releaseSecondBatch.countDown();
            for (int i = 0; i < 3; i++) {
                assertThat(queued.get(i).get(5, TimeUnit.SECONDS).subject()).isEqualTo("queued-" + i);
            }
            assertThat(writers).hasSize(2);
        } finally {
            releaseFirstBatch.countDown();
            releaseSecondBatch.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aWriterGoesOnWithQueuedBatchesOnlyWithinItsBudgetAfterItsOwnRecord() throws Exception {
        AtomicLong nanos = new AtomicLong();
        List<CountDownLatch> started = List.of(new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1));
        List<CountDownLatch> release = List.of(new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1));
        List<String> writers = new CopyOnWriteArrayList<>();
        AtomicLong seq = new AtomicLong();
        GroupCommit group = new GroupCommit(events -> {
            int batch = writers.size();
            writers.add(Thread.currentThread().getName());
            if (batch == 1) {
                nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(3)); // the continued batch outlasts the 2 ms budget
            }
            if (batch < 3) {
                started.get(batch).countDown();
                await(release.get(batch));
            }
            return events.stream().map(w -> record(seq.incrementAndGet(), w.event())).toList();
        }, nanos::get, TimeUnit.MILLISECONDS.toNanos(2));
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            Future<AuditRecord> first = pool.submit(() -> group.append(event("first")));
            assertThat(started.get(0).await(5, TimeUnit.SECONDS)).isTrue();
            List<Future<AuditRecord>> second = List.of(pool.submit(() -> group.append(event("second-0"))),
                    pool.submit(() -> group.append(event("second-1"))));
            waitUntilQueued(group, 2);
            release.get(0).countDown();

            // within the budget the first writer writes the queued batch itself instead of waking another
            assertThat(started.get(1).await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(writers.get(1)).isEqualTo(writers.get(0));
            assertThat(first).isNotDone();
            List<Future<AuditRecord>> third = List.of(pool.submit(() -> group.append(event("third-0"))),
                    pool.submit(() -> group.append(event("third-1"))));
            waitUntilQueued(group, 2);
            release.get(1).countDown();

            // past the budget it answers its own request and hands the rest to a queued caller
            assertThat(first.get(5, TimeUnit.SECONDS).subject()).isEqualTo("first");
            for (Future<AuditRecord> f : second) {
                assertThat(f.get(5, TimeUnit.SECONDS).subject()).startsWith("second-");
            }
            assertThat(started.get(2).await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(writers.get(2)).isNotEqualTo(writers.get(0));
            assertThat(third).noneMatch(Future::isDone);
            release.get(2).countDown();
            for (Future<AuditRecord> f : third) {
                assertThat(f.get(5, TimeUnit.SECONDS).subject()).startsWith("third-");
            }
            assertThat(writers).hasSize(3);
        } finally {
            release.forEach(CountDownLatch::countDown);
            pool.shutdownNow();
        }
    }

    @Test
    void failingBatchFailsEveryCallerInIt() throws Exception {
        CountDownLatch firstBatchStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstBatch = new CountDownLatch(1);
        AtomicLong batches = new AtomicLong();
        GroupCommit group = new GroupCommit(events -> {
            if (batches.incrementAndGet() == 1) {
                firstBatchStarted.countDown();
                await(releaseFirstBatch);
                return List.of(record(1, events.getFirst().event()));
            }
            throw new IllegalStateException("the disk is full");
        });
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            Future<AuditRecord> first = pool.submit(() -> group.append(event("first")));
            assertThat(firstBatchStarted.await(5, TimeUnit.SECONDS)).isTrue();
            List<Future<AuditRecord>> queued = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                queued.add(pool.submit(() -> group.append(event("doomed"))));
            }
            waitUntilQueued(group, 5);
            releaseFirstBatch.countDown();

            assertThat(first.get(5, TimeUnit.SECONDS).seq()).isEqualTo(1);
            for (Future<AuditRecord> future : queued) {
                assertThat(catchCause(future)).isInstanceOf(IllegalStateException.class).hasMessage("the disk is full");
            }
            assertThat(batches.get()).isEqualTo(2);
        } finally {
            pool.shutdownNow();
        }
    }

    private static Throwable catchCause(Future<?> future) throws Exception {
        try {
            future.get(5, TimeUnit.SECONDS);
            throw new AssertionError("expected the append to fail");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private static void waitUntilQueued(GroupCommit group, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (group.queued() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(group.queued()).isEqualTo(n);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static AuditEvent event(String subject) {
        return AuditEvent.success("alice", "entry.create", subject, Map.of());
    }

    private static AuditRecord record(long seq, AuditEvent e) {
        return new AuditRecord(seq, Instant.EPOCH, e.actor(), e.action(), e.subject(), e.outcome(), "{}", "0".repeat(64), "h" + seq);
    }
}
