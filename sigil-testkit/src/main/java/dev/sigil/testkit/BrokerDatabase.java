package dev.sigil.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A fresh database on the shared test PostgreSQL, set up as docs/brokers/postgresql.md tells an
 * operator to: a non-superuser broker admin with only {@code CREATEROLE}, a {@code reader} group role
 * that may read table {@code visible} (one row, 42). Role names carry a per-instance suffix (roles are
 * cluster-wide). {@link #brokersYaml} is the server configuration's {@code brokers:} section with one
 * resource, {@code reports}, whose leases join the reader group.
 */
public record BrokerDatabase(PostgresServer.Database database, String reader, String admin, String adminPassword, String rolePrefix) {

    public static BrokerDatabase create() {
        String suffix = Long.toString(System.nanoTime() % 1_000_000_000_000L, 36);
        BrokerDatabase created = new BrokerDatabase(PostgresServer.shared().createDatabase(), "reader_" + suffix, "admin_" + suffix,
                "admin-" + suffix, "l" + suffix + "_");
        try (Connection su = created.superuser(); Statement statement = su.createStatement()) {
            statement.execute("CREATE ROLE " + created.reader + " NOLOGIN");
            statement.execute("CREATE TABLE visible (x INTEGER)");
            statement.execute("INSERT INTO visible VALUES (42)");
            statement.execute("GRANT SELECT ON visible TO " + created.reader);
            statement.execute("CREATE ROLE " + created.admin + " LOGIN CREATEROLE PASSWORD '" + created.adminPassword + "'");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up the broker database: " + e.getMessage(), e);
        }
        return created;
    }

    /** The roles the broker has created in the cluster now (those named with {@link #rolePrefix()}): what it has granted. */
    public java.util.Set<String> roles() throws SQLException {
        java.util.Set<String> roles = new java.util.HashSet<>();
        try (Connection su = superuser(); Statement statement = su.createStatement();
             java.sql.ResultSet rows = statement.executeQuery("SELECT rolname FROM pg_roles WHERE rolname LIKE '" + rolePrefix + "%'")) {
            while (rows.next()) {
                roles.add(rows.getString(1));
            }
        }
        return roles;
    }

    /** A connection as the superuser in this database. */
    public Connection superuser() throws SQLException {
        return DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
    }

    /**
     * The {@code brokers:} section of a server configuration (top level, no indentation), with the
     * admin password written to an owner-only file in {@code dir}.
     */
    public String brokersYaml(Path dir) {
        Path passwordFile = dir.resolve("pg-broker-" + rolePrefix + "pass");
        try {
            Files.writeString(passwordFile, adminPassword);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return """
                brokers:
                  postgresql:
                    url: "%s"
                    admin_user: %s
                    admin_password_file: %s
                    role_prefix: %s
                    resources:
                      reports:
                        member_of: [%s]
                """.formatted(database.jdbcUrl(), admin, passwordFile, rolePrefix, reader);
    }
}
