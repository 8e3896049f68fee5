package dev.sigil.server.datastore;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The server's SQL database: a connection pool whose schema has been migrated to the current
 * version. Every change goes through {@link #inTransaction}, which commits all of it or none of it.
 *
 * <p>Durability: SQLite runs in WAL mode with {@code synchronous=FULL}, so a committed transaction
 * survives a kill -9 or power loss; write transactions begin IMMEDIATE so two writers never deadlock
 * on a lock upgrade. No commit checkpoints the WAL: a {@link WalCheckpointer} does, from a thread of its
 * own, so a request never waits for the database file to be written and fsynced. PostgreSQL uses READ COMMITTED; components that need a serial order (the audit
 * chain, revision checks) lock the rows they depend on.
 *
 * <p>SQLite has one writer at a time, and a connection that finds the write lock taken polls for it with
 * SQLite's busy handler, sleeping longer after each miss (up to 100 ms a sleep): a writer that keeps
 * re-taking the lock (the audit group commit under load) starves the others, and a starved writer that
 * holds anything a request needs stalls every request for hundreds of ms. So in this process SQLite write
 * transactions queue first on a fair lock ({@link #writeGate}), in arrival order, and reach SQLite's lock
 * only when it is free; the busy handler is left for other processes on the same file.
 */
public final class Datastore implements AutoCloseable {
    private static final int MAX_ATTEMPTS = 5;

    private final Dialect dialect;
    private final HikariDataSource pool;
    private final Optional<WalCheckpointer> checkpointer;
    /** SQLite only: write transactions of this process take it, fairly, before they begin. */
    private final Optional<ReentrantLock> writeGate;

    private Datastore(Dialect dialect, HikariDataSource pool, Optional<WalCheckpointer> checkpointer,
                      Optional<ReentrantLock> writeGate) {
        this.dialect = dialect;
        this.pool = pool;
        this.checkpointer = checkpointer;
        this.writeGate = writeGate;
    }

    /** How long a write transaction waits for its turn at the SQLite write gate (SQLite's own busy timeout). */
    static final long WRITE_GATE_TIMEOUT_MILLIS = 10_000;

    /** The WAL is at most this large after it starts over (SQLite's journal_size_limit). */
    static final long JOURNAL_SIZE_LIMIT = 64L << 20;

    /** How long a caller waits for a pooled connection (all in use, or the database unreachable). */
    static final long CONNECTION_TIMEOUT_MILLIS = 5_000;
    /** How long the background probe waits for a connection to answer before it counts as dead. */
    private static final int PROBE_VALIDATION_SECONDS = 2;
    /** How often the background probe tries the database again while it is unreachable. */
    static final long UNREACHABLE_BACKOFF_NANOS = 1_000_000_000L;
    private volatile long unreachableAt;
    private volatile String unreachableReason = "";
    /** Whether the background probe is running (at most one at a time). */
    private final java.util.concurrent.atomic.AtomicBoolean probing = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * A pooled connection, failing fast while the database is known to be unreachable: once the pool could
     * not connect (as opposed to all connections being busy), or a connection was lost, every call throws
     * {@link DatastoreException} at once, so an outage answers requests with "unavailable" in milliseconds
     * instead of holding each caller for the connection timeout. Only a background probe, one at a time,
     * tries the database again (every {@link #UNREACHABLE_BACKOFF_NANOS}); no request ever waits for it,
     * and the first call after it succeeded gets a connection again.
     */
    private Connection connection() throws SQLException {
        if (unreachableAt != 0) {
            probeInBackground();
            throw new DatastoreException("the datastore is unreachable (" + unreachableReason + "); retrying within a second");
        }
        try {
            return pool.getConnection();
        } catch (java.sql.SQLTransientConnectionException e) {
            if (e.getCause() != null) {
                // the pool could not open a connection: the database is down or unreachable (not merely busy)
                markUnreachable(rootMessage(e));
            }
            throw e;
        }
    }

    private void markUnreachable(String reason) {
        unreachableReason = reason;
        unreachableAt = System.nanoTime() | 1;
        probeInBackground();
    }

    /** Starts the probe unless one runs: it ends when the database answers again or the pool is closed. */
    private void probeInBackground() {
        if (!probing.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("sigil-datastore-probe").start(() -> {
            try {
                while (unreachableAt != 0 && !pool.isClosed()) {
                    Thread.sleep(java.time.Duration.ofNanos(UNREACHABLE_BACKOFF_NANOS));
                    try (Connection probe = pool.getConnection()) {
                        // the pool may hand out a pooled connection it has not checked lately (one used less
                        // than half a second ago): only one that answers proves the database is back
                        if (probe.isValid(PROBE_VALIDATION_SECONDS)) {
                            unreachableAt = 0;
                        } else {
                            pool.evictConnection(probe);
                        }
                    } catch (SQLException e) {
                        unreachableReason = rootMessage(e);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                probing.set(false);
            }
            // marked again between the loop's last check and the flag's reset: that caller found a probe running
            if (unreachableAt != 0 && !pool.isClosed()) {
                probeInBackground();
            }
        });
    }

    /** Opens the pool and applies pending migrations; fails with a clear message when the database is unusable. */
    public static Datastore open(DatastoreConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("sigil-datastore");
        hikari.setMaximumPoolSize(config.maxPoolSize());
        hikari.setMinimumIdle(1);
        hikari.setAutoCommit(true);
        hikari.setInitializationFailTimeout(10_000);
        hikari.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
        SQLiteDataSource sqliteSource = null;
        if (config.dialect() == Dialect.SQLITE) {
            SQLiteConfig sqlite = new SQLiteConfig();
            sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
            sqlite.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            sqlite.setBusyTimeout((int) WRITE_GATE_TIMEOUT_MILLIS);
            sqlite.enforceForeignKeys(true);
            sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
            sqlite.setJournalSizeLimit((int) JOURNAL_SIZE_LIMIT);
            SQLiteDataSource source = new SQLiteDataSource(sqlite);
            source.setUrl(config.jdbcUrl());
            hikari.setDataSource(StatementCache.wrap(source));
            // commits never checkpoint: the WalCheckpointer does, on its own connection
            hikari.setConnectionInitSql("PRAGMA wal_autocheckpoint=0");
            sqliteSource = source;
        } else {
            hikari.setJdbcUrl(config.jdbcUrl());
            hikari.setUsername(config.user());
            hikari.setPassword(config.password());
        }
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new DatastoreException("cannot open the datastore at " + redact(config.jdbcUrl()) + ": " + rootMessage(e), e);
        }
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/migration/common", "classpath:db/migration/" + config.dialect().name().toLowerCase())
                    .table("sigil_schema_history")
                    .failOnMissingLocations(false)
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            pool.close();
            throw new DatastoreException("cannot migrate the datastore schema at " + redact(config.jdbcUrl()) + ": " + rootMessage(e), e);
        }
        Optional<WalCheckpointer> checkpointer = Optional.empty();
        Optional<ReentrantLock> writeGate = Optional.empty();
        if (sqliteSource != null) {
            writeGate = Optional.of(new ReentrantLock(true));
            try {
                checkpointer = Optional.of(WalCheckpointer.start(sqliteSource, writeGate.get()));
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
        }
        return new Datastore(config.dialect(), pool, checkpointer, writeGate);
    }

    public Dialect dialect() {
        return dialect;
    }

    /** The pool itself, for components that manage their own statements outside a transaction. */
    public DataSource dataSource() {
        return pool;
    }

    /** Work that runs on one connection and may throw {@link SQLException}: one component's own SQL. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction and commits it; rolls back on any exception. A transient
     * failure (lock contention, serialization failure) retries the whole unit a few times, so the work
     * must not have side effects outside the database. {@link SQLException}s surface as
     * {@link DatastoreException}; runtime exceptions thrown by the work pass through unchanged after
     * the rollback, so components can throw their own domain errors from inside a transaction.
     */
    public <T> T inTransaction(SqlWork<T> work) {
        if (writeGate.isEmpty()) {
            return inTransactionUngated(work);
        }
        ReentrantLock gate = writeGate.get();
        try {
            if (!gate.tryLock(WRITE_GATE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                throw new DatastoreException("datastore transaction failed: the database stayed locked by other writers for "
                        + WRITE_GATE_TIMEOUT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatastoreException("datastore transaction failed: interrupted while waiting for the write lock", e);
        }
        try {
            return inTransactionUngated(work);
        } finally {
            gate.unlock();
        }
    }

    private <T> T inTransactionUngated(SqlWork<T> work) {
        SQLException last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try (Connection connection = connection()) {
                connection.setAutoCommit(false);
                T result;
                try {
                    result = work.run(connection);
                    connection.commit();
                } catch (SQLException | RuntimeException | Error e) {
                    // the failure itself is what callers and the outage check must see: on a connection the
                    // pool closed as broken, the rollback and the reset fail too ("Connection is closed",
                    // without a SQLState), and must not replace the error that says the database went away
                    rollbackQuietly(connection, e);
                    restoreAutoCommitQuietly(connection, e);
                    throw e;
                }
                connection.setAutoCommit(true);
                return result;
            } catch (SQLException e) {
                last = e;
                noteLostConnection(e);
                if (!dialect.isTransient(e)) {
                    break;
                }
                sleepBeforeRetry(attempt);
            }
        }
        throw new DatastoreException("datastore transaction failed: " + rootMessage(last), last);
    }

    /** A unit of work over a {@link Transaction} shared by several components. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Transaction transaction) throws SQLException;
    }

    /**
     * Runs {@code work} as one {@link Transaction}, with the commit, rollback and retry of
     * {@link #inTransaction}: the form for work that spans components (each writes its own tables).
     */
    public <T> T transaction(Work<T> work) {
        return inTransaction(connection -> work.run(new Transaction(connection)));
    }

    /** Runs read-only work on a pooled connection in auto-commit mode. */
    public <T> T read(SqlWork<T> work) {
        try (Connection connection = connection()) {
            return work.run(connection);
        } catch (SQLException e) {
            noteLostConnection(e);
            throw new DatastoreException("datastore read failed: " + rootMessage(e), e);
        }
    }

    /**
     * A statement failed because the connection to the database broke (SQLState class 08, or the server
     * shutting down: 57P01 to 57P03): the database is unreachable as surely as when the pool cannot
     * connect, so the next calls fail fast too instead of each waiting for the pool's connection timeout.
     */
    private void noteLostConnection(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().matches("57P0[123]"))) {
                markUnreachable(rootMessage(e));
                return;
            }
        }
    }

    /** True when the database answers a trivial query. */
    public boolean healthy() {
        try (Connection connection = pool.getConnection()) {
            return connection.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        checkpointer.ifPresent(WalCheckpointer::close);
        pool.close();
        // only now: closing it drops this process's POSIX locks on the file, which SQLite's connections held
        checkpointer.ifPresent(WalCheckpointer::closeDatabaseFile);
    }

    /** Checkpoints the background checkpointer has run (0 on PostgreSQL), for tests. */
    long walCheckpoints() {
        return checkpointer.map(WalCheckpointer::checkpoints).orElse(0L);
    }

    private static void rollbackQuietly(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static void restoreAutoCommitQuietly(Connection connection, Throwable cause) {
        try {
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static void sleepBeforeRetry(int attempt) {
        try {
            Thread.sleep(10L * attempt * attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1<redacted>");
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t != null && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t == null ? "unknown error" : t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message;
    }
}
