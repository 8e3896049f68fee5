package dev.sigil.server.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/** Prepared statements kept per SQLite connection ({@link StatementCache}): reused, and nothing of one use reaches the next. */
class StatementCacheTest {
    @TempDir
    Path tmp;

    @Test
    void aStatementPreparedAgainOnTheSameConnectionIsTheSameCompiledStatement() throws Exception {
        try (Connection connection = cached().getConnection()) {
            connection.createStatement().execute("CREATE TABLE t (a TEXT, b TEXT)");
            PreparedStatement first = connection.prepareStatement("SELECT a FROM t");
            Object compiled = first.unwrap(PreparedStatement.class);
            first.close();
            try (PreparedStatement again = connection.prepareStatement("SELECT a FROM t")) {
                assertThat(again.unwrap(PreparedStatement.class)).isSameAs(compiled);
                assertThat(again.isClosed()).isFalse();
            }
            // two uses open at once get two statements
            try (PreparedStatement one = connection.prepareStatement("SELECT a FROM t");
                 PreparedStatement two = connection.prepareStatement("SELECT a FROM t")) {
                assertThat(one.unwrap(PreparedStatement.class)).isNotSameAs(two.unwrap(PreparedStatement.class));
            }
        }
    }

    @Test
    void parametersOfAnEarlierUseAreNotBoundInTheNextOne() throws Exception {
        try (Connection connection = cached().getConnection()) {
            connection.createStatement().execute("CREATE TABLE t (a TEXT, b TEXT)");
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO t (a, b) VALUES (?, ?)")) {
                insert.setString(1, "first");
                insert.setString(2, "secret of the first use");
                insert.executeUpdate();
            }
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO t (a, b) VALUES (?, ?)")) {
                insert.setString(1, "second");
                insert.executeUpdate();
            }
            try (PreparedStatement select = connection.prepareStatement("SELECT b FROM t WHERE a = ?")) {
                select.setString(1, "second");
                try (ResultSet row = select.executeQuery()) {
                    assertThat(row.next()).isTrue();
                    assertThat(row.getString(1)).isNull();
                }
            }
        }
    }

    @Test
    void anUnfinishedReadGivenBackDoesNotKeepItsSnapshotOpen() throws Exception {
        Sources pair = new Sources(cached(), plain());
        try (Connection reader = pair.cached().getConnection(); Connection writer = pair.plain().getConnection()) {
            writer.createStatement().execute("CREATE TABLE t (a TEXT)");
            for (int i = 0; i < 10; i++) {
                writer.createStatement().execute("INSERT INTO t VALUES ('row " + i + "')");
            }
            PreparedStatement select = reader.prepareStatement("SELECT a FROM t");
            ResultSet rows = select.executeQuery();
            assertThat(rows.next()).isTrue();
            // the caller closes the statement but not its result set, mid-way through the rows
            select.close();
            writer.createStatement().execute("INSERT INTO t VALUES ('after')");
            try (Statement statement = writer.createStatement();
                 ResultSet checkpoint = statement.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                assertThat(checkpoint.next()).isTrue();
                assertThat(checkpoint.getInt(1)).as("busy: a reader still holds its snapshot").isZero();
            }
        }
    }

    @Test
    void aStatementWithChangedLimitsIsNotReused() throws Exception {
        try (Connection connection = cached().getConnection()) {
            connection.createStatement().execute("CREATE TABLE t (a TEXT)");
            PreparedStatement limited = connection.prepareStatement("SELECT a FROM t");
            limited.setMaxRows(1);
            Object compiled = limited.unwrap(PreparedStatement.class);
            limited.close();
            try (PreparedStatement again = connection.prepareStatement("SELECT a FROM t")) {
                assertThat(again.unwrap(PreparedStatement.class)).isNotSameAs(compiled);
                assertThat(again.getMaxRows()).isZero();
            }
            assertThat(((PreparedStatement) compiled).isClosed()).isTrue();
        }
    }

    @Test
    void closingTheConnectionFinalizesItsIdleStatements() throws Exception {
        Object compiled;
        try (Connection connection = cached().getConnection()) {
            connection.createStatement().execute("CREATE TABLE t (a TEXT)");
            PreparedStatement select = connection.prepareStatement("SELECT a FROM t");
            compiled = select.unwrap(PreparedStatement.class);
            select.close();
            assertThat(((PreparedStatement) compiled).isClosed()).isFalse();
        }
        assertThat(((PreparedStatement) compiled).isClosed()).isTrue();
    }

    @Test
    void aClosedUseRefusesFurtherCalls() throws Exception {
        try (Connection connection = cached().getConnection()) {
            connection.createStatement().execute("CREATE TABLE t (a TEXT)");
            PreparedStatement select = connection.prepareStatement("SELECT a FROM t");
            select.close();
            assertThat(select.isClosed()).isTrue();
            org.assertj.core.api.Assertions.assertThatThrownBy(select::executeQuery)
                    .isInstanceOf(SQLException.class).hasMessage("statement is closed");
        }
    }

    private record Sources(javax.sql.DataSource cached, javax.sql.DataSource plain) {
    }

    private javax.sql.DataSource cached() {
        return StatementCache.wrap(plain());
    }

    private javax.sql.DataSource plain() {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        SQLiteDataSource source = new SQLiteDataSource(config);
        source.setUrl("jdbc:sqlite:" + tmp.resolve("cache.db"));
        return source;
    }
}
