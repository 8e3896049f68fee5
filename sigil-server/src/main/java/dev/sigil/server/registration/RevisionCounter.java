package dev.sigil.server.registration;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The global registration change counter (table registration_revision, one row). Advancing it
 * write-locks the row until the transaction ends, on PostgreSQL by the UPDATE's row lock and on
 * SQLite by the database write lock. That lock serializes all registration writers, which is what
 * makes revisions commit in order and lets writers check for duplicates race-free.
 */
final class RevisionCounter {
    private RevisionCounter() {}

    /** Takes the counter's write lock without changing it, before deciding how many revisions to take. */
    static void lock(Connection connection) throws SQLException {
        advance(connection, 0);
    }

    /** Adds {@code count} to the counter and returns its new value; the caller's changes take the last {@code count} values. */
    static long advance(Connection connection, int count) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE registration_revision SET revision = revision + ? WHERE id = 1")) {
            update.setInt(1, count);
            if (update.executeUpdate() != 1) {
                throw new IllegalStateException("the registration_revision row is missing; the registration schema is damaged");
            }
        }
        return current(connection);
    }

    static long current(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT revision FROM registration_revision WHERE id = 1");
                ResultSet row = select.executeQuery()) {
            if (!row.next()) {
                throw new IllegalStateException("the registration_revision row is missing; the registration schema is damaged");
            }
            return row.getLong(1);
        }
    }
}
