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
 * lock); a failing run is logged with the job's name and does not cancel later runs; names are unique, so a
 * cluster-aware runner can later run each job on exactly one server; {@link #close()} stops every job and
 * waits up to 5 s for a run in progress.
 */
public final class JobRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "sigil-jobs");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Job> jobs = new LinkedHashMap<>();

    /** Schedules {@code job}, first run one interval from now. */
    public synchronized JobRunner register(Job job) {
        if (jobs.putIfAbsent(job.name(), job) != null) {
            throw new IllegalArgumentException("a job named '" + job.name() + "' is already registered");
        }
        long millis = job.interval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> run(job), millis, millis, TimeUnit.MILLISECONDS);
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
        return scheduler.isTerminated();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
