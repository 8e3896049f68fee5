package dev.sigil.server.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.testkit.Eventually;
import java.nio.file.Files;
import java.sql.Connection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/** SQLite's WAL is checkpointed in the background, never by a committing request. */
@Timeout(30)
class WalCheckpointerTest {
    private static final int BLOB_BYTES = 2 << 20;

    @TempDir
    Path tmp;

    @Test
    void committedPagesReachTheDatabaseFileWithoutAnotherCommit() throws Exception {
        Path file = tmp.resolve("sigil.db");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            long before = Files.size(file);
            datastore.inTransaction(connection -> {
                try (Statement create = connection.createStatement()) {
                    create.execute("CREATE TABLE wal_probe (payload BLOB NOT NULL)");
                }
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                    insert.setBytes(1, new byte[BLOB_BYTES]);
                    insert.executeUpdate();
                }
                return null;
            });
            // ~500 pages, below SQLite's own auto-checkpoint threshold: only a background checkpoint copies
            // them into the database file while the server is idle.
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(Files.size(file)).isGreaterThan(before + BLOB_BYTES));
            assertThat(Files.size(file.resolveSibling("sigil.db-wal"))).as("wal file").isLessThanOrEqualTo(64L << 20);
        }
    }

    @Test
    void aWalPastTheRestartThresholdStartsOverInPlaceWhileWritesGoOnAndIsCutBackOnceIdle() throws Exception {
        Path file = tmp.resolve("sigil.db");
        Path wal = file.resolveSibling("sigil.db-wal");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            datastore.inTransaction(connection -> {
                try (Statement create = connection.createStatement()) {
                    create.execute("CREATE TABLE wal_probe (payload BLOB NOT NULL)");
                }
                // 9 x 8 MiB: past 16,384 frames, where the old code cut the file back under load
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                    for (int i = 0; i < 9; i++) {
                        insert.setBytes(1, new byte[8 << 20]);
                        insert.executeUpdate();
                    }
                }
                return null;
            });
            long smallest = Long.MAX_VALUE;
            long writesUntil = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
            while (System.nanoTime() < writesUntil) { // small commits back to back: never idle for a round
                datastore.inTransaction(connection -> {
                    try (PreparedStatement insert = connection.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                        insert.setBytes(1, new byte[100]);
                        return insert.executeUpdate();
                    }
                });
                smallest = Math.min(smallest, Files.size(wal));
            }
            assertThat(smallest).as("smallest wal file while writes went on").isGreaterThanOrEqualTo(32L << 20);
            long frames = datastore.read(connection -> {
                try (Statement statement = connection.createStatement();
                     ResultSet row = statement.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
                    row.next();
                    return row.getLong(2);
                }
            });
            assertThat(frames).as("frames in the wal after it started over").isLessThan(WalCheckpointer.RESTART_ABOVE_FRAMES);
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(Files.size(wal)).as("idle wal file")
                    .isLessThanOrEqualTo(WalCheckpointer.SHRINK_ABOVE_BYTES));
        }
    }

    @Test
    void aRoundRestartsALongWalEvenWhenWrittenToAndCutsBackOnlyALargeFileThatStayedIdleAndCopied() {
        long restart = WalCheckpointer.RESTART_ABOVE_FRAMES;
        long large = WalCheckpointer.SHRINK_ABOVE_BYTES + 1;
        assertThat(WalCheckpointer.next(restart + 1, false, true, large)).isEqualTo(WalCheckpointer.Next.RESTART);
        assertThat(WalCheckpointer.next(restart + 1, true, false, large)).isEqualTo(WalCheckpointer.Next.RESTART);
        assertThat(WalCheckpointer.next(500, true, false, large)).isEqualTo(WalCheckpointer.Next.TRUNCATE);
        assertThat(WalCheckpointer.next(500, true, true, large)).as("written to during the round").isEqualTo(WalCheckpointer.Next.NOTHING);
        assertThat(WalCheckpointer.next(500, false, false, large)).as("not all copied").isEqualTo(WalCheckpointer.Next.NOTHING);
        assertThat(WalCheckpointer.next(500, true, false, large - 1)).as("a small file").isEqualTo(WalCheckpointer.Next.NOTHING);
        assertThat(WalCheckpointer.next(-1, true, false, large)).as("checkpoint busy elsewhere").isEqualTo(WalCheckpointer.Next.NOTHING);
    }

    @Test
    void theDatabaseFileIsFlushedWithoutTheWriteGateBeforeABlockingCheckpoint() throws Exception {
        Path file = tmp.resolve("flush.db");
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        SQLiteDataSource source = new SQLiteDataSource(config);
        source.setUrl("jdbc:sqlite:" + file);
        ReentrantLock gate = new ReentrantLock();
        List<Boolean> flushedUnderTheGate = new CopyOnWriteArrayList<>();
        try (Connection writer = source.getConnection()) {
            try (Statement statement = writer.createStatement()) {
                statement.execute("PRAGMA wal_autocheckpoint=0");
                statement.execute("CREATE TABLE wal_probe (payload BLOB NOT NULL)");
            }
            WalCheckpointer checkpointer = WalCheckpointer.start(source, gate, databaseFile -> {
                flushedUnderTheGate.add(gate.isHeldByCurrentThread());
                databaseFile.sync();
            });
            try {
                try (PreparedStatement insert = writer.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                    insert.setBytes(1, new byte[40 << 20]); // about 10,000 frames: past the restart threshold
                    insert.executeUpdate();
                }
                Eventually.within(Duration.ofSeconds(10), () -> assertThat(flushedUnderTheGate).isNotEmpty());
                assertThat(flushedUnderTheGate).as("flushed while holding the write gate").containsOnly(false);
                Eventually.within(Duration.ofSeconds(10), () -> { // the writer after a restart starts the wal over
                    try (PreparedStatement insert = writer.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                        insert.setBytes(1, new byte[100]);
                        insert.executeUpdate();
                    }
                    assertThat(walFrames(writer)).as("frames after the restart that followed the flush")
                            .isLessThan(WalCheckpointer.RESTART_ABOVE_FRAMES);
                });
            } finally {
                checkpointer.close();
                checkpointer.closeDatabaseFile();
            }
        }
    }

    private static long walFrames(Connection connection) throws Exception {
        try (Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            row.next();
            return row.getLong(2);
        }
    }

    @Test
    void pooledConnectionsNeverCheckpointOnCommit() {
        Path file = tmp.resolve("sigil.db");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            long autoCheckpoint = datastore.read(connection -> {
                try (Statement statement = connection.createStatement();
                     ResultSet row = statement.executeQuery("PRAGMA wal_autocheckpoint")) {
                    row.next();
                    return row.getLong(1);
                }
            });
            assertThat(autoCheckpoint).as("wal_autocheckpoint of a pooled connection").isZero();
        }
    }
}
