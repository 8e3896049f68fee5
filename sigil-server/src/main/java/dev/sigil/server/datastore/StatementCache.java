package dev.sigil.server.datastore;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Keeps each SQLite connection's prepared statements for reuse: SQLite compiles a statement's SQL on
 * every {@code prepareStatement}, and neither the driver (xerial/sqlite-jdbc issue 614) nor HikariCP (by
 * design) keeps them, so a token exchange compiled a dozen statements it had compiled a moment before.
 * PostgreSQL's driver caches prepared statements itself; this is for SQLite only.
 *
 * <p>Contract: the callers' code is unchanged. {@code prepareStatement(String)} on a connection of
 * {@link #wrap} hands out an idle statement prepared earlier with the same SQL on the same connection, or
 * prepares one; {@code close()} on it resets it and returns it instead of finalizing it. What a use leaves
 * behind never reaches the next one: closing closes its result set (which resets the statement, so an
 * unfinished read does not keep its snapshot of the database open), clears its parameters and its batch.
 * A statement whose limits were changed ({@code setMaxRows}, {@code setQueryTimeout}, {@code setFetchSize})
 * or that failed to reset is finalized instead. Each connection keeps at most {@value #MAX_SQL} distinct
 * SQL strings ({@value #MAX_IDLE_PER_SQL} idle statements each), least recently used out first, and
 * finalizes all of them when it is closed.
 */
final class StatementCache {
    static final int MAX_SQL = 128;
    static final int MAX_IDLE_PER_SQL = 2;
    private static final Set<String> LIMITS = Set.of("setMaxRows", "setLargeMaxRows", "setQueryTimeout", "setFetchSize");

    private StatementCache() {
    }

    /** A data source whose connections cache their prepared statements. */
    static DataSource wrap(DataSource delegate) {
        return new CachingDataSource(delegate);
    }

    private record CachingDataSource(DataSource delegate) implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return CachingConnection.wrap(delegate.getConnection());
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return CachingConnection.wrap(delegate.getConnection(username, password));
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return delegate.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            delegate.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            delegate.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return delegate.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            return delegate.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            return type.isInstance(delegate) ? type.cast(delegate) : delegate.unwrap(type);
        }

        @Override
        public boolean isWrapperFor(Class<?> type) throws SQLException {
            return type.isInstance(delegate) || delegate.isWrapperFor(type);
        }
    }

    /** One physical connection and its idle statements; used by one thread at a time, as a pooled connection is. */
    private static final class CachingConnection implements InvocationHandler {
        private final Connection delegate;
        private final Map<String, ArrayDeque<PreparedStatement>> idle = new LinkedHashMap<>(16, 0.75f, true);
        private Connection proxy;

        private CachingConnection(Connection delegate) {
            this.delegate = delegate;
        }

        static Connection wrap(Connection delegate) {
            CachingConnection handler = new CachingConnection(delegate);
            handler.proxy = (Connection) Proxy.newProxyInstance(StatementCache.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, handler);
            return handler.proxy;
        }

        @Override
        public synchronized Object invoke(Object self, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("prepareStatement") && args != null && args.length == 1) {
                return prepare((String) args[0]);
            }
            if (name.equals("close")) {
                finalizeAll();
            } else if (name.equals("unwrap") && ((Class<?>) args[0]).isInstance(delegate)) {
                return delegate;
            } else if (name.equals("isWrapperFor") && ((Class<?>) args[0]).isInstance(delegate)) {
                return true;
            } else if (name.equals("equals")) {
                return self == args[0];
            } else if (name.equals("hashCode")) {
                return System.identityHashCode(self);
            } else if (name.equals("toString")) {
                return "StatementCache(" + delegate + ")";
            }
            return call(delegate, method, args);
        }

        private PreparedStatement prepare(String sql) throws SQLException {
            ArrayDeque<PreparedStatement> statements = idle.get(sql);
            PreparedStatement statement = statements == null ? null : statements.pollFirst();
            if (statement == null || statement.isClosed()) {
                statement = delegate.prepareStatement(sql);
            }
            return CachedStatement.wrap(this, sql, statement);
        }

        /** Takes back a statement whose use ended; finalizes it when it cannot be reused or there is no room. */
        synchronized void giveBack(String sql, PreparedStatement statement, boolean reusable) {
            if (reusable && !isClosedQuietly()) {
                ArrayDeque<PreparedStatement> statements = idle.computeIfAbsent(sql, s -> new ArrayDeque<>(MAX_IDLE_PER_SQL));
                if (statements.size() < MAX_IDLE_PER_SQL) {
                    statements.addFirst(statement);
                    evictBeyondLimit();
                    return;
                }
            }
            closeQuietly(statement);
        }

        private void evictBeyondLimit() {
            Iterator<Map.Entry<String, ArrayDeque<PreparedStatement>>> eldest = idle.entrySet().iterator();
            while (idle.size() > MAX_SQL && eldest.hasNext()) {
                eldest.next().getValue().forEach(CachingConnection::closeQuietly);
                eldest.remove();
            }
        }

        private void finalizeAll() {
            idle.values().forEach(statements -> statements.forEach(CachingConnection::closeQuietly));
            idle.clear();
        }

        private boolean isClosedQuietly() {
            try {
                return delegate.isClosed();
            } catch (SQLException e) {
                return true;
            }
        }

        private static void closeQuietly(PreparedStatement statement) {
            try {
                statement.close();
            } catch (SQLException ignored) {
                // finalizing a statement of a connection that is going away: nothing is left to release
            }
        }
    }

    /** One use of a cached statement: everything goes to the statement except {@code close}, which gives it back. */
    private static final class CachedStatement implements InvocationHandler {
        private final CachingConnection owner;
        private final String sql;
        private final PreparedStatement delegate;
        private final List<ResultSet> results = new ArrayList<>(1);
        private boolean limitsChanged;
        private boolean closed;

        private CachedStatement(CachingConnection owner, String sql, PreparedStatement delegate) {
            this.owner = owner;
            this.sql = sql;
            this.delegate = delegate;
        }

        static PreparedStatement wrap(CachingConnection owner, String sql, PreparedStatement delegate) {
            return (PreparedStatement) Proxy.newProxyInstance(StatementCache.class.getClassLoader(),
                    new Class<?>[] {PreparedStatement.class}, new CachedStatement(owner, sql, delegate));
        }

        @Override
        public Object invoke(Object self, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "close" -> {
                    close();
                    return null;
                }
                case "isClosed" -> {
                    return closed || delegate.isClosed();
                }
                case "getConnection" -> {
                    return owner.proxy;
                }
                case "unwrap" -> {
                    if (((Class<?>) args[0]).isInstance(delegate)) {
                        return delegate;
                    }
                }
                case "equals" -> {
                    return self == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(self);
                }
                case "toString" -> {
                    return "CachedStatement(" + sql + ")";
                }
                default -> {
                }
            }
            if (closed) {
                throw new SQLException("statement is closed");
            }
            if (LIMITS.contains(name)) {
                limitsChanged = true;
            }
            Object result = call(delegate, method, args);
            if (result instanceof ResultSet resultSet) {
                results.add(resultSet);
            }
            return result;
        }

        private void close() {
            if (closed) {
                return;
            }
            closed = true;
            boolean reusable = !limitsChanged;
            try {
                for (ResultSet resultSet : results) {
                    resultSet.close();
                }
                if (!delegate.isClosed()) {
                    delegate.clearParameters();
                    delegate.clearBatch();
                    delegate.clearWarnings();
                } else {
                    reusable = false;
                }
            } catch (SQLException e) {
                reusable = false;
            }
            results.clear();
            owner.giveBack(sql, delegate, reusable);
        }
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
