package dev.sigil.cli.server;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** When {@code sigil server run} should stop: on SIGTERM/SIGINT in production, when a test says so in tests. */
@FunctionalInterface
public interface StopSignal {
    /** Blocks until the server must stop; {@code stop} has run (and finished) when this returns. */
    void awaitStop(Runnable stop) throws InterruptedException;

    /** Stops on JVM shutdown (SIGTERM, SIGINT): the hook stops the server before the JVM exits. */
    static JvmShutdown jvmShutdown() {
        return new JvmShutdown();
    }

    /**
     * The production signal. Its shutdown hook is registered only when a command waits for it, and
     * {@link #hooked()} says whether one did: the process must then end through {@code System.exit},
     * which runs the hook; a process whose command never waited may be halted.
     */
    final class JvmShutdown implements StopSignal {
        private final AtomicBoolean hooked = new AtomicBoolean();

        private JvmShutdown() {
        }

        @Override
        public void awaitStop(Runnable stop) throws InterruptedException {
            CountDownLatch stopped = new CountDownLatch(1);
            hooked.set(true);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    stop.run();
                } finally {
                    stopped.countDown();
                }
            }, "sigil-shutdown"));
            stopped.await();
        }

        /** Whether a command has waited for this signal (and so registered its shutdown hook). */
        public boolean hooked() {
            return hooked.get();
        }
    }
}
