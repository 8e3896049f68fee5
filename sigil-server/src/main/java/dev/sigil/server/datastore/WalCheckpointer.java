package dev.sigil.server.datastore;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
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
 * so the file stays small. Under sustained load readers are almost always on the WAL and it rarely starts
 * over by itself, so:
 * <ul>
 *   <li>when it holds more than {@link #RESTART_ABOVE_FRAMES} frames, a RESTART checkpoint makes the next
 *       writer start it over from the beginning of the same file. The file is written over in place,
 *       never cut back under load: cutting back a WAL of tens of MiB is an {@code ftruncate} of tens of
 *       milliseconds (33 ms for 70 MiB on the reference machine), during which every writer waits;</li>
 *   <li>once nothing was committed for a whole round (SQLite's {@code data_version} did not change, checked
 *       again under the gate), a WAL file larger than {@link #SHRINK_ABOVE_BYTES} is cut back to nothing by
 *       a TRUNCATE checkpoint.</li>
 * </ul>
 * Both block writers while they run, so they hold the datastore's write gate (this process's writers queue
 * on the gate rather than polling SQLite's lock; the gate is waited for at most {@link #GATE_WAIT}), and
 * wait at most {@link #READER_WAIT} for readers still on the WAL; otherwise they give up until the next
 * round. A failed checkpoint loses nothing (the frames stay in the WAL); it is logged and retried.
 *
 * <p>Before either, the database file is flushed to disk ({@code fsync}) <em>without</em> the gate.
 * Under load a PASSIVE checkpoint rarely reaches the end of the WAL, and SQLite syncs the database file
 * only when one does, so every page the PASSIVE rounds copied since the last sync would otherwise be
 * flushed by the blocking checkpoint while all writers wait: 50 to 70 ms on the reference machine once
 * the database held a few hundred MiB, growing with it. SQLite still syncs the file itself in the
 * blocking checkpoint, so durability never depends on this flush; it only moves the bulk of the I/O out
 * of the writers' way. The flush uses a descriptor of its own, opened once and closed only after the
 * datastore's connections ({@link #closeDatabaseFile}): closing any descriptor of a file drops every
 * POSIX lock this process holds on it, SQLite's included.
 */
final class WalCheckpointer implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofMillis(200);
    /**
     * About 32 MiB of 4 KiB pages: half of the journal size limit, so that the frames written in the
     * round before a restart never carry the file past the limit (which SQLite would cut back).
     */
    static final long RESTART_ABOVE_FRAMES = 8_192;
    /** An idle WAL file larger than this is cut back to nothing. */
    static final long SHRINK_ABOVE_BYTES = 4L << 20;
    static final Duration GATE_WAIT = Duration.ofMillis(50);
    static final Duration READER_WAIT = Duration.ofMillis(5);

    /** What a round does after its PASSIVE checkpoint. */
    enum Next { NOTHING, RESTART, TRUNCATE }

    private static final Logger LOG = LoggerFactory.getLogger(WalCheckpointer.class);

    /** Flushes the database file through the checkpointer's own descriptor; production: {@code sync()} (fsync). */
    @FunctionalInterface
    interface Flush {
        void flush(FileDescriptor databaseFile) throws IOException;
    }

    private final Connection connection;
    private final Lock writeGate;
    private final Optional<Path> walFile;
    private final Optional<RandomAccessFile> databaseFile;
    private final Flush flush;
    private final Thread thread;
    private final AtomicLong checkpoints = new AtomicLong();
    private volatile boolean closed;

    private WalCheckpointer(Connection connection, Lock writeGate, Optional<Path> walFile, Optional<RandomAccessFile> databaseFile,
                            Flush flush) {
        this.connection = connection;
        this.writeGate = writeGate;
        this.walFile = walFile;
        this.databaseFile = databaseFile;
        this.flush = flush;
        this.thread = Thread.ofPlatform().daemon().name("sigil-wal-checkpoint").unstarted(this::loop);
    }

    /** Opens a connection of its own from {@code source} and starts checkpointing. */
    static WalCheckpointer start(DataSource source, Lock writeGate) {
        return start(source, writeGate, FileDescriptor::sync);
    }

    static WalCheckpointer start(DataSource source, Lock writeGate, Flush flush) {
        Connection connection;
        Optional<Path> walFile;
        Optional<Path> database;
        try {
            connection = source.getConnection();
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA wal_autocheckpoint=0");
                statement.execute("PRAGMA busy_timeout=" + READER_WAIT.toMillis());
                try (ResultSet row = statement.executeQuery("PRAGMA database_list")) {
                    String file = row.next() ? row.getString("file") : null;
                    database = file == null || file.isEmpty() ? Optional.empty() : Optional.of(Path.of(file));
                    walFile = database.map(path -> Path.of(path + "-wal"));
                }
            }
        } catch (SQLException e) {
            throw new DatastoreException("cannot open the wal checkpoint connection: " + Datastore.rootMessage(e), e);
        }
        // a RandomAccessFile, not a FileChannel: an interrupt during a channel's I/O closes the channel, and
        // with it this process's locks on the file
        Optional<RandomAccessFile> databaseFile = Optional.empty();
        if (database.isPresent()) {
            try {
                databaseFile = Optional.of(new RandomAccessFile(database.get().toFile(), "r"));
            } catch (IOException e) {
                // checkpoints still work; the blocking ones then flush the file under the gate, as SQLite does
                LOG.warn("cannot open {} to flush it before blocking checkpoints: {}", database.get(), e.getMessage());
            }
        }
        WalCheckpointer checkpointer = new WalCheckpointer(connection, writeGate, walFile, databaseFile, flush);
        checkpointer.thread.start();
        return checkpointer;
    }

    /**
     * The blocking checkpoint a round runs after its PASSIVE one found {@code frames} frames in the WAL
     * and left them {@code complete}ly copied or not, with a WAL file of {@code walBytes}, when a
     * transaction was or was not {@code committed} (by any connection, any process) since the round
     * before. A PASSIVE checkpoint that could not run (another process was checkpointing) reports -1
     * frames, and leads to nothing.
     */
    static Next next(long frames, boolean complete, boolean committed, long walBytes) {
        if (frames > RESTART_ABOVE_FRAMES) {
            return Next.RESTART;
        }
        if (frames >= 0 && complete && !committed && walBytes > SHRINK_ABOVE_BYTES) {
            return Next.TRUNCATE;
        }
        return Next.NOTHING;
    }

    /** Checkpoints run so far (of every mode), for tests. */
    long checkpoints() {
        return checkpoints.get();
    }

    private void loop() {
        long nextFailureLog = 0;
        long dataVersion = -1;
        while (!closed) {
            LockSupport.parkNanos(INTERVAL.toNanos());
            if (closed) {
                break;
            }
            try {
                Result passive = checkpoint("PASSIVE");
                long previousVersion = dataVersion;
                dataVersion = dataVersion();
                Next next = next(passive.frames(), passive.complete(), dataVersion != previousVersion, walBytes());
                if (next != Next.NOTHING) {
                    flushDatabaseFile();
                }
                if (next != Next.NOTHING && writeGate.tryLock(GATE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    try {
                        // a write may have committed while this round waited for the gate: then not idle after all
                        if (next == Next.RESTART || dataVersion() == dataVersion) {
                            checkpoint(next.name());
                        }
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

    /** A checkpoint's answer: frames in the WAL and how many of them are in the database file. */
    private record Result(long frames, long copied) {
        boolean complete() {
            return copied == frames;
        }
    }

    private Result checkpoint(String mode) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            checkpoints.incrementAndGet();
            return row.next() ? new Result(row.getLong(2), row.getLong(3)) : new Result(0, 0);
        }
    }

    /** Flushes what checkpoints copied into the database file so far, without the gate (see the class comment). */
    private void flushDatabaseFile() {
        if (databaseFile.isEmpty()) {
            return;
        }
        try {
            flush.flush(databaseFile.get().getFD());
        } catch (IOException e) {
            // the blocking checkpoint syncs the file itself; only its time under the gate grows
            LOG.debug("flushing the database file before a blocking checkpoint failed: {}", e.getMessage());
        }
    }

    /**
     * Closes the descriptor the flushes use. Call only once every SQLite connection to the file in this
     * process is closed: closing it drops this process's POSIX locks on the file, SQLite's included.
     */
    void closeDatabaseFile() {
        if (databaseFile.isPresent()) {
            try {
                databaseFile.get().close();
            } catch (IOException e) {
                LOG.debug("closing the database file's flush descriptor failed: {}", e.getMessage());
            }
        }
    }

    /** SQLite's {@code data_version}: it changes whenever another connection (of any process) commits. */
    private long dataVersion() throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("PRAGMA data_version")) {
            return row.next() ? row.getLong(1) : -1;
        }
    }

    /** The WAL file's size, 0 when it is absent or unknown (an in-memory database). */
    private long walBytes() {
        if (walFile.isEmpty()) {
            return 0;
        }
        try {
            return Files.size(walFile.get());
        } catch (IOException e) {
            return 0;
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
