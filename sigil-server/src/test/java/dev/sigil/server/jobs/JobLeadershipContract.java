package dev.sigil.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.testkit.Eventually;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two servers' job runners on one datastore (two connection pools, real threads and the real clock):
 * a ONE_SERVER job runs on exactly one of them at a time, an EVERY_SERVER job on both, and when the leader
 * stops or dies the other takes over within the documented bound, never overlapping with it.
 */
abstract class JobLeadershipContract extends DatastoreContract {
    /** One run of a job: which server, when (nanoTime). */
    record Run(String server, long at) {
    }

    private final List<Run> oneServerRuns = new CopyOnWriteArrayList<>();
    private final List<Run> everyServerRuns = new CopyOnWriteArrayList<>();
    private final List<JobRunner> runners = new ArrayList<>();

    @AfterEach
    void closeRunners() {
        runners.forEach(JobRunner::close);
    }

    private JobRunner server(String name, Datastore store) {
        JobRunner runner = new JobRunner(new JobLeadership(store, name, Clock.systemUTC()));
        runner.register(new Job("prune-like", Duration.ofMillis(50), Job.Scope.ONE_SERVER, () -> oneServerRuns.add(new Run(name, System.nanoTime()))));
        runner.register(new Job("reload-like", Duration.ofMillis(50), Job.Scope.EVERY_SERVER,
                () -> everyServerRuns.add(new Run(name, System.nanoTime()))));
        runners.add(runner);
        return runner;
    }

    private static List<String> servers(List<Run> runs) {
        return runs.stream().map(Run::server).distinct().sorted().toList();
    }

    @Test
    void exactlyOneServerRunsAOneServerJobWhileEveryServerRunsTheOthers() throws Exception {
        server("server-a", datastore);
        server("server-b", openDatastore());

        Eventually.within(Duration.ofSeconds(5), () -> assertThat(oneServerRuns).hasSizeGreaterThan(20));
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(servers(everyServerRuns)).containsExactly("server-a", "server-b"));
        assertThat(servers(oneServerRuns)).hasSize(1);
        assertThat(count("SELECT COUNT(*) FROM job_leader")).isEqualTo(1);
    }

    @Test
    void aStoppedLeaderHandsOverAtOnce() throws Exception {
        JobRunner a = server("server-a", datastore);
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(oneServerRuns).isNotEmpty());
        server("server-b", openDatastore());
        assertThat(servers(oneServerRuns)).containsExactly("server-a");

        a.close();
        long stopped = System.nanoTime();
        Eventually.within(Duration.ofSeconds(3), () -> assertThat(servers(oneServerRuns)).contains("server-b"));
        long took = firstRunOf("server-b") - stopped;
        assertThat(Duration.ofNanos(took)).as("time from the leader's stop to the successor's first run")
                .isLessThanOrEqualTo(JobLeadership.ATTEMPT.plusMillis(500));
        assertNoOverlap("server-a", "server-b");
    }

    @Test
    void aDeadLeaderIsReplacedWithinTheBoundAndNeverOverlapsItsSuccessor() throws Exception {
        Datastore doomed = openDatastore();
        server("server-a", doomed);
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(oneServerRuns).isNotEmpty());
        server("server-b", datastore);

        // server-a loses its database (a crash, a partition): it can no longer renew, and does not release
        doomed.close();
        long died = System.nanoTime();
        Eventually.within(Duration.ofSeconds(8), () -> assertThat(servers(oneServerRuns)).contains("server-b"));
        Duration took = Duration.ofNanos(firstRunOf("server-b") - died);
        assertThat(took).as("time from the leader's loss to the successor's first run (documented bound: 5 s)")
                .isLessThanOrEqualTo(Duration.ofSeconds(5));
        assertNoOverlap("server-a", "server-b");
    }

    private long firstRunOf(String server) {
        return oneServerRuns.stream().filter(run -> run.server().equals(server)).mapToLong(Run::at).min().orElseThrow();
    }

    /** Every run of {@code before} happened before the first run of {@code after}: never both at once. */
    private void assertNoOverlap(String before, String after) {
        long firstOfAfter = firstRunOf(after);
        assertThat(oneServerRuns.stream().filter(run -> run.server().equals(before)).mapToLong(Run::at).max().orElseThrow())
                .as("last run of the old leader precedes the first run of the new one").isLessThan(firstOfAfter);
    }
}
