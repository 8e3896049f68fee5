package dev.sigil.server.datastore;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints an SQLite write-ahead log from a thread and a connection of its own, so that no committing
 * request waits for a checkpoint.
 *
 * <p>Contract: the pool's connections run with {@code wal_autocheckpoint=0}, so a commit only appends its
 * frames to the WAL and fsyncs it ({@code synchronous=FULL}: the transaction is durable before the commit
 * returns, exactly as before). Copying the WAL back into the database file and fsyncing that file happens
 * here, every {@link #INTERVAL}, as a PASSIVE checkpoint, which neither waits for nor blocks readers or
 * writers; once a checkpoint has copied the whole WAL, the next writer starts it over from the beginning,
 * so the file stays small. Readers holding old snapshots can keep the WAL from starting over: when it
 * holds more than {@link #TRUNCATE_ABOVE_FRAMES} frames, a TRUNCATE checkpoint is tried, which waits for
 * writers and readers at most {@link #TRUNCATE_WAIT} and otherwise gives up until the next round; it
 * holds the datastore's write gate while it runs (it blocks writers), so this process's writers queue on
 * the gate rather than polling SQLite's lock.
 * A failed checkpoint loses nothing (the frames stay in the WAL); it is logged and retried.
 */
final class WalCheckpointer implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofMillis(200);
    /** About 64 MiB of 4 KiB pages. */
    static final long TRUNCATE_ABOVE_FRAMES = 16_384;
    static final Duration TRUNCATE_WAIT = Duration.ofMillis(50);

    private static final Logger LOG = LoggerFactory.getLogger(WalCheckpointer.class);

    private final Connection connection;
    private final Lock writeGate;
    private final Thread thread;
    private final AtomicLong checkpoints = new AtomicLong();
    private volatile boolean closed;

    private WalCheckpointer(Connection connection, Lock writeGate) {
        this.connection = connection;
        this.writeGate = writeGate;
        this.thread = Thread.ofPlatform().daemon().name("sigil-wal-checkpoint").unstarted(this::loop);
    }

    /** Opens a connection of its own from {@code source} and starts checkpointing. */
    static WalCheckpointer start(DataSource source, Lock writeGate) {
        Connection connection;
        try {
            connection = source.getConnection();
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA wal_autocheckpoint=0");
                statement.execute("PRAGMA busy_timeout=" + TRUNCATE_WAIT.toMillis());
            }
        } catch (SQLException e) {
            throw new DatastoreException("cannot open the wal checkpoint connection: " + Datastore.rootMessage(e), e);
        }
        WalCheckpointer checkpointer = new WalCheckpointer(connection, writeGate);
        checkpointer.thread.start();
        return checkpointer;
    }

    /** Checkpoints run so far (PASSIVE and TRUNCATE), for tests. */
    long checkpoints() {
        return checkpoints.get();
    }

    private void loop() {
        long nextFailureLog = 0;
        while (!closed) {
            LockSupport.parkNanos(INTERVAL.toNanos());
            if (closed) {
                break;
            }
            try {
                long frames = checkpoint("PASSIVE");
                if (frames > TRUNCATE_ABOVE_FRAMES && writeGate.tryLock(TRUNCATE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    try {
                        checkpoint("TRUNCATE");
                    } finally {
                        writeGate.unlock();
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                if (System.nanoTime() - nextFailureLog >= 0) {
                    LOG.warn("sqlite wal checkpoint failed (retried every {} ms; committed data is safe in the wal): {}",
                            INTERVAL.toMillis(), Datastore.rootMessage(e));
                    nextFailureLog = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
                }
            }
        }
    }

    /** Runs one checkpoint; returns the frames in the WAL afterwards (the "log" column). */
    private long checkpoint(String mode) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            checkpoints.incrementAndGet();
            return row.next() ? row.getLong(2) : 0;
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("closing the wal checkpoint connection failed: {}", e.getMessage());
        }
    }
}
