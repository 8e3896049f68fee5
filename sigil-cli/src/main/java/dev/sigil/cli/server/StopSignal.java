package dev.sigil.cli.server;

import java.util.concurrent.CountDownLatch;

/** When {@code sigil server run} should stop: on SIGTERM/SIGINT in production, when a test says so in tests. */
@FunctionalInterface
public interface StopSignal {
    /** Blocks until the server must stop; {@code stop} has run (and finished) when this returns. */
    void awaitStop(Runnable stop) throws InterruptedException;

    /** Stops on JVM shutdown (SIGTERM, SIGINT): the hook stops the server before the JVM exits. */
    static StopSignal jvmShutdown() {
        return stop -> {
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    stop.run();
                } finally {
                    stopped.countDown();
                }
            }, "sigil-shutdown"));
            stopped.await();
        };
    }
}
