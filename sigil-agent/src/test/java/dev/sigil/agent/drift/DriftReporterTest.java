package dev.sigil.agent.drift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.server.DriftDelivery;
import dev.sigil.agent.workload.WorkloadDrift;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DriftReporterTest {
    private static WorkloadDrift drift(int pid) {
        return new WorkloadDrift(pid, 100, Set.of(SpiffeId.parse("spiffe://example.org/app")), Set.of(Selector.parse("unix:uid:1")),
                Set.of(), WorkloadDrift.Reason.EXITED, Instant.now());
    }

    @Test
    void driftIsRetriedWithTheSameReportIdUntilTheServerAcknowledgesIt() throws Exception {
        List<String> attempts = new CopyOnWriteArrayList<>();
        AtomicInteger failures = new AtomicInteger(3);
        try (DriftReporter reporter = new DriftReporter((id, drift) -> {
            attempts.add(id);
            return failures.getAndDecrement() > 0 ? new DriftDelivery.Failed("unavailable") : new DriftDelivery.Acked("drift-1");
        }, 10, Duration.ofMillis(10), Duration.ofMillis(40))) {
            reporter.drifted(drift(42));
            awaitTrue(() -> reporter.delivered() == 1);

            assertThat(attempts).hasSize(4);
            assertThat(Set.copyOf(attempts)).hasSize(1);
            assertThat(reporter.pending()).isZero();
        }
    }

    @Test
    void refusedReportIsDroppedAndTheNextOneIsSent() throws Exception {
        List<Integer> pids = new CopyOnWriteArrayList<>();
        try (DriftReporter reporter = new DriftReporter((id, drift) -> {
            pids.add(drift.pid());
            return drift.pid() == 1 ? new DriftDelivery.Refused("not authorized") : new DriftDelivery.Acked("drift-2");
        }, 10, Duration.ofMillis(10), Duration.ofMillis(40))) {
            reporter.drifted(drift(1));
            reporter.drifted(drift(2));
            awaitTrue(() -> reporter.delivered() == 1 && reporter.dropped() == 1);

            assertThat(pids).containsExactly(1, 2);
        }
    }

    @Test
    void fullQueueDropsTheOldestWaitingDrift() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> sent = new CopyOnWriteArrayList<>();
        try (DriftReporter reporter = new DriftReporter((id, drift) -> {
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sent.add(drift.pid());
            return new DriftDelivery.Acked("drift-" + drift.pid());
        }, 2, Duration.ofMillis(10), Duration.ofMillis(40))) {
            reporter.drifted(drift(1));
            awaitTrue(() -> reporter.pending() == 1);
            Thread.sleep(50); // the sender holds pid 1
            reporter.drifted(drift(2));
            reporter.drifted(drift(3));
            reporter.drifted(drift(4)); // two wait already: the oldest waiting one (pid 2) is dropped
            release.countDown();
            awaitTrue(() -> reporter.pending() == 0);

            assertThat(reporter.dropped()).isEqualTo(1);
            assertThat(sent).containsExactly(1, 3, 4);
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5s");
            }
            Thread.sleep(5);
        }
    }
}
