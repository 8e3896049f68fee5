package dev.sigil.testkit;

import java.time.Duration;

/**
 * Polls an assertion until it passes or the time is up (then the last failure is thrown): how tests wait for
 * an effect on a loaded machine without guessing a duration, and without passing before anything was checked.
 */
public final class Eventually {
    /** An assertion (or any check that throws while the condition does not hold yet). */
    @FunctionalInterface
    public interface Check {
        void run() throws Exception;
    }

    private Eventually() {}

    public static void within(Duration limit, Check check) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                check.run();
                return;
            } catch (AssertionError | Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
