package dev.sigil.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import dev.sigil.testkit.Eventually;
import org.junit.jupiter.api.Test;

class JobRunnerTest {
    private static final Duration FAST = Duration.ofMillis(20);

    private static void awaitAtLeast(AtomicInteger count, int wanted) throws Exception {
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(count.get()).as("runs").isGreaterThanOrEqualTo(wanted));
    }

    @Test
    void aFailingJobKeepsBeingRunAndDoesNotStopTheOthers() throws Exception {
        AtomicInteger failing = new AtomicInteger();
        AtomicInteger healthy = new AtomicInteger();
        try (JobRunner runner = new JobRunner()) {
            runner.register(new Job("failing", FAST, Job.Scope.EVERY_SERVER, () -> {
                failing.incrementAndGet();
                throw new IllegalStateException("datastore down");
            }));
            runner.register(new Job("healthy", FAST, Job.Scope.EVERY_SERVER, healthy::incrementAndGet));

            awaitAtLeast(failing, 3);
            awaitAtLeast(healthy, 3);
        }
    }

    @Test
    void namesAreUniqueAndWellFormed() {
        try (JobRunner runner = new JobRunner()) {
            runner.register(new Job("prune-expired", FAST, Job.Scope.EVERY_SERVER, () -> { }));
            assertThatThrownBy(() -> runner.register(new Job("prune-expired", FAST, Job.Scope.EVERY_SERVER, () -> { })))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("a job named 'prune-expired' is already registered");
            assertThat(runner.names()).containsExactly("prune-expired");
        }
        assertThatThrownBy(() -> new Job("Prune Expired", FAST, Job.Scope.EVERY_SERVER, () -> { })).hasMessageContaining("'Prune Expired'");
        assertThatThrownBy(() -> new Job("zero", Duration.ZERO, Job.Scope.EVERY_SERVER, () -> { })).hasMessageContaining("longer than zero");
    }

    @Test
    void runNowRunsTheJobOnceOnTheCallersThread() {
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        try (JobRunner runner = new JobRunner()) {
            runner.register(new Job("rotation", Duration.ofHours(1), Job.Scope.EVERY_SERVER, () -> {
                runs.incrementAndGet();
                ranOn.set(Thread.currentThread());
            }));
            runner.runNow("rotation");
            assertThat(runs).hasValue(1);
            assertThat(ranOn).hasValue(Thread.currentThread());
            assertThatThrownBy(() -> runner.runNow("nope")).hasMessage("no job is named 'nope'; jobs: rotation");
        }
    }

    @Test
    void closingStopsEveryJob() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        JobRunner runner = new JobRunner();
        runner.register(new Job("ticker", FAST, Job.Scope.EVERY_SERVER, runs::incrementAndGet));
        awaitAtLeast(runs, 2);

        runner.close();
        int atClose = runs.get();
        // close() waits for the run in progress; a terminated runner schedules nothing more
        assertThat(runner.isClosed()).as("runner terminated").isTrue();
        assertThat(runs.get()).as("runs after close").isEqualTo(atClose);
    }
}
