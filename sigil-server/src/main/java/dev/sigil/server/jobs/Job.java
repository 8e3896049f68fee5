package dev.sigil.server.jobs;

import java.time.Duration;
import java.util.Objects;

/**
 * One periodic job of a server: a name (kebab-case, unique per server), how long to wait after one run
 * ends before the next starts, and the work. Named so that operators see which job failed and so that a
 * runner can run each ONE_SERVER job on exactly one server.
 */
public record Job(String name, Duration interval, Scope scope, Work work) {
    /**
     * Where the job must run once several servers share a datastore: on each server (its own SVID, its
     * in-memory caches of shared state, its local files) or on exactly one (work on shared rows that two
     * servers would do twice), which runs only on the server that holds the {@link JobLeadership}.
     */
    public enum Scope { EVERY_SERVER, ONE_SERVER }

    /** A job's work; a failure is logged by the runner and the next run happens as scheduled. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    public Job {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-z][a-z0-9-]{0,63}")) {
            throw new IllegalArgumentException("job name '" + name + "' must be 1 to 64 characters of a-z, 0-9 and -, starting with a letter");
        }
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("job " + name + " has interval " + interval + "; it must be longer than zero");
        }
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(work, "work");
    }
}
