package dev.sigil.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * A PostgreSQL session a workload holds open across a revocation, probed so a test can tell the two
 * ways a credential can stop working on it: the session was <em>terminated</em> (SQLSTATE
 * {@value #TERMINATED} admin_shutdown, sent by {@code pg_terminate_backend}) or it merely
 * <em>lost its privileges</em> (SQLSTATE {@value #INSUFFICIENT_PRIVILEGE} on a query that needs them,
 * while the session itself lives on). Revocation must do the former: a session that only lost its
 * group memberships can still read whatever PUBLIC can and keeps its connection slot.
 *
 * <p>The probe is {@code SELECT 1}, which needs no privilege, so only a terminated session fails it.
 * The first failure's SQLSTATE is remembered: once pgjdbc has seen the FATAL it reports every later
 * statement as 08003 (connection closed), which says nothing about why.
 */
public final class LiveSession implements AutoCloseable {
    /** admin_shutdown: "terminating connection due to administrator command". */
    public static final String TERMINATED = "57P01";
    /** insufficient_privilege. */
    public static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final Connection connection;
    private volatile String endedWith;

    private LiveSession(Connection connection) {
        this.connection = connection;
    }

    /** Logs in; throws when the credential does not work. */
    public static LiveSession open(String url, String user, String password) throws SQLException {
        return new LiveSession(DriverManager.getConnection(url, user, password));
    }

    public Connection connection() {
        return connection;
    }

    /** True while {@code SELECT 1} still runs on the session. */
    public boolean alive() {
        return ended().isEmpty();
    }

    /** Empty while the session is alive; otherwise the SQLSTATE with which it first failed the probe. */
    public synchronized Optional<String> ended() {
        if (endedWith == null) {
            try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery("SELECT 1")) {
                rows.next();
            } catch (SQLException e) {
                endedWith = String.valueOf(e.getSQLState());
            }
        }
        return Optional.ofNullable(endedWith);
    }

    /** The SQLSTATE of {@code sql} on this session, or empty when it ran. */
    public Optional<String> failureOf(String sql) {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
            return Optional.empty();
        } catch (SQLException e) {
            return Optional.of(String.valueOf(e.getSQLState()));
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
