package dev.sigil.server.credential.postgresql;

import dev.sigil.testkit.PostgresServer;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh database on the shared test server, set up as an operator would for the broker: a
 * non-superuser admin role with only {@code CREATEROLE}, a {@code reader} group that may read table
 * {@code visible} (and nothing may read {@code hidden}), and a {@code writer} group that may create
 * tables. Role names are unique per fixture, since roles are cluster-wide.
 *
 * <p>Resources: {@code reports} (member of the reader group, 5 connections), {@code scratch} (member
 * of the writer group), {@code broken} (member of a role that does not exist).
 */
final class PostgresBrokerFixture {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String RUN = Long.toString(ProcessHandle.current().pid(), 36);

    final PostgresServer.Database database;
    final String prefix;
    final String reader;
    final String writer;
    final String admin;
    final String adminPassword;

    private PostgresBrokerFixture(PostgresServer.Database database, String suffix) {
        this.database = database;
        this.prefix = "t" + suffix + "_";
        this.reader = "reader_" + suffix;
        this.writer = "writer_" + suffix;
        this.admin = "broker_admin_" + suffix;
        this.adminPassword = randomPassword();
    }

    static PostgresBrokerFixture create() throws SQLException {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        PostgresBrokerFixture fixture = new PostgresBrokerFixture(database, RUN + "_" + COUNTER.incrementAndGet());
        fixture.superuser("CREATE ROLE " + fixture.reader + " NOLOGIN",
                "CREATE ROLE " + fixture.writer + " NOLOGIN",
                "CREATE TABLE visible (x INTEGER)",
                "INSERT INTO visible VALUES (42)",
                "CREATE TABLE hidden (secret TEXT)",
                "GRANT SELECT ON visible TO " + fixture.reader,
                "GRANT CREATE ON SCHEMA public TO " + fixture.writer,
                // PostgreSQL 15 semantics: CREATEROLE alone may create roles and grant membership in any
                // non-superuser role; 16+ also needs ADMIN OPTION on the group roles (see the docs).
                "CREATE ROLE " + fixture.admin + " LOGIN CREATEROLE PASSWORD '" + fixture.adminPassword + "'");
        return fixture;
    }

    Map<String, PostgresBrokerSettings.Resource> resources() {
        Map<String, PostgresBrokerSettings.Resource> resources = new LinkedHashMap<>();
        resources.put("reports", new PostgresBrokerSettings.Resource(List.of(reader), 5));
        resources.put("scratch", new PostgresBrokerSettings.Resource(List.of(writer), 2));
        resources.put("broken", new PostgresBrokerSettings.Resource(List.of("no_such_role_" + prefix), 1));
        return resources;
    }

    PostgresBrokerSettings settings() {
        return new PostgresBrokerSettings(database.jdbcUrl(), admin, adminPassword, prefix, resources());
    }

    PostgresBroker broker(Clock clock) {
        return PostgresBroker.create(settings(), clock);
    }

    /** Runs statements as the superuser in the fixture's database. */
    void superuser(String... statements) throws SQLException {
        try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** A connection as the superuser in the fixture's database. */
    Connection superuserConnection() throws SQLException {
        return DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
    }

    private static String randomPassword() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
