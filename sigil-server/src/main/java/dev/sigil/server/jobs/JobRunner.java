package dev.sigil.server.jobs;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a server's periodic jobs on one daemon thread ({@code sigil-jobs}), each with a fixed delay between
 * the end of one run and the start of the next.
 *
 * <p>Contract: a job never runs concurrently with itself (one thread, and {@link #runNow} takes the job's
 * lock); a failing run is logged with the job's name and does not cancel later runs; names are unique;
 * {@link #close()} stops every job and waits up to 5 s for a run in progress. With a {@link JobLeadership}
 * (servers sharing a datastore), a {@link Job.Scope#ONE_SERVER} job runs only on the server that leads:
 * the others skip its runs; leadership is renewed on a thread of its own ({@code sigil-jobs-leader}), so a
 * long run does not let it lapse, and given up on {@link #close()}.
 */
public final class JobRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "sigil-jobs");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final java.util.Optional<JobLeadership> leadership;
    private final java.util.Optional<ScheduledExecutorService> leaderThread;
    private boolean led;
    private boolean failing;

    /** A runner for a server alone on its datastore: every job runs here. */
    public JobRunner() {
        this.leadership = java.util.Optional.empty();
        this.leaderThread = java.util.Optional.empty();
    }

    /** A runner that runs ONE_SERVER jobs only while this server holds {@code leadership}. */
    public JobRunner(JobLeadership leadership) {
        this.leadership = java.util.Optional.of(leadership);
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread t = new Thread(runnable, "sigil-jobs-leader");
            t.setDaemon(true);
            return t;
        });
        this.leaderThread = java.util.Optional.of(thread);
        long millis = JobLeadership.ATTEMPT.toMillis();
        thread.scheduleWithFixedDelay(this::attemptLeadership, 0, millis, TimeUnit.MILLISECONDS);
    }

    private void attemptLeadership() {
        JobLeadership leader = leadership.orElseThrow();
        try {
            leader.attempt();
            failing = false;
        } catch (RuntimeException e) {
            if (!failing) { // once per outage, not every second
                LOG.warn("cannot renew or take the job leadership ({}): one-server jobs pause here until it succeeds", e.getMessage());
            }
            failing = true;
        }
        // after a failed renewal this server still leads until its last renewal's lease (less the margin) ends
        boolean leading = leader.leading();
        if (leading != led) {
            led = leading;
            if (leading) {
                LOG.info("this server ({}) now runs the one-server jobs (leadership term {})", leader.holder(), leader.term());
            } else {
                LOG.info("this server ({}) no longer runs the one-server jobs", leader.holder());
            }
        }
    }

    /** Whether this runner runs ONE_SERVER jobs now (always, without a leadership). */
    public boolean leading() {
        return leadership.map(JobLeadership::leading).orElse(true);
    }

    /** Schedules {@code job}, first run one interval from now. */
    public synchronized JobRunner register(Job job) {
        if (jobs.putIfAbsent(job.name(), job) != null) {
            throw new IllegalArgumentException("a job named '" + job.name() + "' is already registered");
        }
        long millis = job.interval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> runIfHere(job), millis, millis, TimeUnit.MILLISECONDS);
        return this;
    }

    /** The registered jobs' names, in registration order. */
    public synchronized List<String> names() {
        return List.copyOf(jobs.keySet());
    }

    /** Runs job {@code name} once on the caller's thread (tests, operators); failures are logged as for a scheduled run. */
    public void runNow(String name) {
        Job job;
        synchronized (this) {
            job = jobs.get(name);
        }
        if (job == null) {
            throw new IllegalArgumentException("no job is named '" + name + "'; jobs: " + String.join(", ", names()));
        }
        run(job);
    }

    private void runIfHere(Job job) {
        if (job.scope() == Job.Scope.ONE_SERVER && !leading()) {
            return; // another server leads and runs it
        }
        run(job);
    }

    private static void run(Job job) {
        synchronized (job) {
            try {
                job.work().run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception | LinkageError e) {
                LOG.error("job {} failed; retrying in {}s: {}", job.name(), job.interval().toMillis() / 1000.0, e.getMessage(), e);
            }
        }
    }

    /** True once {@link #close()} has stopped every job and no run is in progress. */
    public boolean isClosed() {
        return scheduler.isTerminated() && leaderThread.map(ScheduledExecutorService::isTerminated).orElse(true);
    }

    @Override
    public void close() {
        leaderThread.ifPresent(ScheduledExecutorService::shutdownNow);
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
            if (leaderThread.isPresent()) {
                leaderThread.get().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leadership.ifPresent(leader -> {
            try {
                leader.release();
            } catch (RuntimeException e) {
                LOG.warn("cannot give up the job leadership ({}); another server takes it over when it lapses", e.getMessage());
            }
        });
    }
}
