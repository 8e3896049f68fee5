package dev.sigil.server.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQLite write transactions of one server queue fairly: a writer that arrives while another thread commits
 * back to back gets its turn after the transaction in progress, instead of polling SQLite's lock (whose busy
 * handler sleeps up to 100 ms between tries and can miss every gap between two back-to-back commits).
 */
@Timeout(60)
class SqliteWriteGateTest {
    private static final long HAMMER_MILLIS = 3_000;

    @TempDir
    Path tmp;

    @Test
    void writerArrivingDuringBackToBackCommitsGetsItsTurnWithinAFewCommits() throws Exception {
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")))) {
            datastore.inTransaction(connection -> {
                try (Statement create = connection.createStatement()) {
                    create.execute("CREATE TABLE gate_probe (writer TEXT NOT NULL, n INTEGER NOT NULL)");
                }
                return null;
            });
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong hammerCommits = new AtomicLong();
            CompletableFuture<Void> hammer = CompletableFuture.runAsync(() -> {
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HAMMER_MILLIS);
                while (!stop.get() && System.nanoTime() < end) {
                    insert(datastore, "hammer", hammerCommits.incrementAndGet());
                }
            });
            while (hammerCommits.get() < 20) {
                Thread.onSpinWait();
            }

            long commitsBefore = hammerCommits.get();
            long start = System.nanoTime();
            insert(datastore, "late", 1);
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            long commitsBetween = hammerCommits.get() - commitsBefore;
            boolean hammerStillRunning = !hammer.isDone();
            stop.set(true);
            hammer.get(30, TimeUnit.SECONDS);

            assertThat(hammerStillRunning).as("the late writer committed while the other thread still committed back to back "
                    + "(waited " + waitedMillis + " ms, " + commitsBetween + " commits of the other thread meanwhile)").isTrue();
            // fair turns: the transaction in progress, and the few the other thread commits while this one is
            // scheduled again; SQLite's busy handler alone let it wait through thousands (8,952 in one run)
            assertThat(commitsBetween).as("commits of the other thread while the late writer waited").isLessThanOrEqualTo(50);
        }
    }

    private static void insert(Datastore datastore, String writer, long n) {
        datastore.inTransaction(connection -> {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO gate_probe (writer, n) VALUES (?, ?)")) {
                insert.setString(1, writer);
                insert.setLong(2, n);
                insert.executeUpdate();
            }
            return null;
        });
    }
}
