package dev.sigil.server.datastore;

import java.sql.SQLException;

/** The SQL databases Sigil stores its state in. Migrations are written in SQL both accept. */
public enum Dialect {
    /** Embedded file database; the zero-set-up default. One writer at a time (WAL, IMMEDIATE transactions). */
    SQLITE,
    /** Production database; several servers may share one. */
    POSTGRESQL;

    /** True when the exception reports a violated UNIQUE or PRIMARY KEY constraint. */
    public boolean isUniqueViolation(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                if (this == POSTGRESQL && "23505".equals(sql.getSQLState())) {
                    return true;
                }
                if (this == SQLITE && (sql.getErrorCode() == 19 || sql.getErrorCode() == 2067 || sql.getErrorCode() == 1555)
                        && sql.getMessage() != null && sql.getMessage().contains("UNIQUE")
                        || this == SQLITE && sql.getMessage() != null && sql.getMessage().contains("PRIMARYKEY")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True when a retry of the whole transaction may succeed (lock contention, serialization failure). */
    public boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (this == POSTGRESQL && ("40001".equals(state) || "40P01".equals(state))) {
                    return true;
                }
                if (this == SQLITE && (sql.getErrorCode() == 5 || sql.getErrorCode() == 6
                        || (sql.getMessage() != null && sql.getMessage().contains("SQLITE_BUSY")))) {
                    return true;
                }
            }
        }
        return false;
    }
}
