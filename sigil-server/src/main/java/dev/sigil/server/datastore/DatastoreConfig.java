package dev.sigil.server.datastore;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the datastore lives. {@link #sqlite} for the embedded default, {@link #postgresql} for
 * production. The password is never printed by {@link #toString()}.
 */
public record DatastoreConfig(Dialect dialect, String jdbcUrl, String user, String password, int maxPoolSize) {
    public DatastoreConfig {
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (maxPoolSize < 1) {
            throw new IllegalArgumentException("datastore pool size must be at least 1, got " + maxPoolSize);
        }
        user = user == null ? "" : user;
        password = password == null ? "" : password;
    }

    /** An SQLite file (created when missing, WAL journal, fsync on every commit). */
    public static DatastoreConfig sqlite(Path file) {
        return new DatastoreConfig(Dialect.SQLITE, "jdbc:sqlite:" + file.toAbsolutePath(), "", "", 8);
    }

    public static DatastoreConfig postgresql(String jdbcUrl, String user, String password) {
        return new DatastoreConfig(Dialect.POSTGRESQL, jdbcUrl, user, password, 10);
    }

    public DatastoreConfig withMaxPoolSize(int size) {
        return new DatastoreConfig(dialect, jdbcUrl, user, password, size);
    }

    @Override
    public String toString() {
        return "DatastoreConfig[" + dialect + " " + jdbcUrl + (user.isEmpty() ? "" : " user=" + user)
                + (password.isEmpty() ? "" : " password=<redacted>") + "]";
    }
}
