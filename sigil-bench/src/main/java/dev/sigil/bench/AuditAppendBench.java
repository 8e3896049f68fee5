package dev.sigil.bench;

import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.AuditVerification;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Standalone audit appends per second on SQLite with the datastore's durable settings (WAL,
 * fsync on every commit), with 1, 8 and 32 concurrent callers, each on a fresh database:
 * "one commit per append" (each append in its own transaction, as before group commit) against
 * "group commit" ({@link AuditTrail#append(AuditEvent)}). Every run ends by verifying the chain.
 *
 * <p>Usage: {@code AuditAppendBench [--seconds 5]}
 */
public final class AuditAppendBench {
    private AuditAppendBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--seconds"));
        int seconds = options.positiveInt("--seconds", 5);
        try (TempDirectory directory = TempDirectory.create("sigil-audit-bench")) {
            System.out.printf("audit appends on SQLite (durable defaults), %d s per run after 1 s warm-up%n%n", seconds);
            System.out.printf("%-8s %22s %22s%n", "callers", "one commit/append /s", "group commit /s");
            int run = 0;
            for (int callers : new int[] {1, 8, 32}) {
                double single = measure(directory.resolve("single-" + run + ".db"), callers, seconds, false);
                double grouped = measure(directory.resolve("group-" + run + ".db"), callers, seconds, true);
                run++;
                System.out.printf("%-8d %,22.0f %,22.0f%n", callers, single, grouped);
            }
        }
    }

    private static double measure(Path file, int callers, int seconds, boolean group) throws Exception {
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            AuditTrail trail = AuditTrail.create(datastore, Clock.systemUTC());
            AtomicBoolean counting = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            LongAdder appended = new LongAdder();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < callers; t++) {
                AuditEvent event = AuditEvent.success("spiffe://example.org/caller-" + t, "svid.x509.issue",
                        "spiffe://example.org/w" + t, Map.of("serial", "00"));
                Thread thread = Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    while (!stop.get()) {
                        if (group) {
                            trail.append(event);
                        } else {
                            datastore.transaction(transaction -> trail.append(transaction, event));
                        }
                        if (counting.get()) {
                            appended.increment();
                        }
                    }
                });
                threads.add(thread);
            }
            start.countDown();
            Thread.sleep(1000);
            counting.set(true);
            long begin = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            counting.set(false);
            double elapsed = (System.nanoTime() - begin) / 1e9;
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
            if (!(trail.verify() instanceof AuditVerification.Intact)) {
                throw new IllegalStateException("the chain does not verify after the run: " + trail.verify());
            }
            return appended.sum() / elapsed;
        }
    }
}
