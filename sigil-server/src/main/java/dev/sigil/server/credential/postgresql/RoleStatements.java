package dev.sigil.server.credential.postgresql;

import dev.sigil.server.credential.LeaseId;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.Utils;

/**
 * The SQL the broker runs, one method per step, each costing as few round trips as the step allows
 * (several statements go out as one batch). Every method expects a connection in auto-commit mode
 * with the simple query protocol ({@link PostgresBroker}'s pool): the statements of one call then go
 * out as one Query message, which PostgreSQL runs as one implicit transaction, committed at its end or
 * rolled back entirely when one of them fails, without a separate {@code COMMIT} round trip (with the
 * extended protocol the same holds up to the batch's {@code Sync}).
 *
 * <p>Injection safety: identifiers and literals that cannot be bind parameters (role names, the
 * password verifier, {@code VALID UNTIL}, the comment) are quoted by the driver's own
 * {@link Utils#escapeIdentifier}/{@link Utils#escapeLiteral}, which follow the connection's
 * {@code standard_conforming_strings} and refuse NUL; role names are additionally restricted to
 * {@code [a-z0-9_]} ({@link RoleName}) or come from validated configuration. The password itself never
 * appears in SQL: only its SCRAM-SHA-256 verifier does, so statement logs, errors and
 * {@code pg_stat_activity} never show it.
 */
final class RoleStatements {
    /** How long revocation waits for each terminated session to end (PostgreSQL 14+). */
    static final long TERMINATE_WAIT_MILLIS = 5_000;

    private final String prefix;
    private final PostgresBroker.RoundTripListener timing;

    RoleStatements(String prefix, PostgresBroker.RoundTripListener timing) {
        this.prefix = prefix;
        this.timing = timing;
    }

    /** A lease role as found in {@code pg_roles}, with the group roles it is a member of. */
    record Found(RoleName name, List<String> memberOf) {
        Found {
            memberOf = List.copyOf(memberOf);
        }
    }

    /**
     * Creates the login role with only {@code LOGIN} and {@code INHERIT} (so group privileges apply
     * without {@code SET ROLE}), the connection limit and expiry, makes it a member of
     * {@code memberOf} and writes the forensic comment.
     */
    void create(Connection connection, RoleName role, String scramVerifier, Instant validUntil, int connectionLimit,
                List<String> memberOf, String comment) throws SQLException {
        String name = identifier(role.value());
        StringBuilder sql = new StringBuilder()
                .append("CREATE ROLE ").append(name)
                .append(" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT")
                .append(" CONNECTION LIMIT ").append(connectionLimit)
                .append(" VALID UNTIL ").append(literal(connection, timestamp(validUntil)))
                .append(" PASSWORD ").append(literal(connection, scramVerifier)).append(";\n");
        if (!memberOf.isEmpty()) {
            sql.append("GRANT ").append(identifiers(memberOf)).append(" TO ").append(name).append(";\n");
        }
        sql.append("COMMENT ON ROLE ").append(name).append(" IS ").append(literal(connection, comment));
        execute(connection, "grant", sql.toString());
    }

    /** Moves the role's expiry. */
    void validUntil(Connection connection, RoleName role, Instant validUntil) throws SQLException {
        execute(connection, "renew", "ALTER ROLE " + identifier(role.value()) + " VALID UNTIL " + literal(connection, timestamp(validUntil)));
    }

    /**
     * First revocation step: no new logins ({@code NOLOGIN}) and no group privileges, even if the
     * role cannot be dropped afterwards (it owns objects in another database).
     */
    void disarm(Connection connection, Found role) throws SQLException {
        String name = identifier(role.name().value());
        StringBuilder sql = new StringBuilder("ALTER ROLE ").append(name).append(" NOLOGIN");
        if (!role.memberOf().isEmpty()) {
            sql.append(";\nREVOKE ").append(identifiers(role.memberOf())).append(" FROM ").append(name);
        }
        execute(connection, "revoke-disarm", sql.toString());
    }

    /**
     * Second revocation step: ends every live session of the role (waiting for each to exit), hands
     * what it owns in this database to the admin and drops its remaining privileges here, then drops
     * it. The admin first makes itself a member of the role: that is the privilege PostgreSQL requires
     * both to signal the role's backends and to reassign its objects, without the admin needing
     * {@code pg_signal_backend}; the membership goes away with the role.
     */
    void drop(Connection connection, RoleName role) throws SQLException {
        String name = identifier(role.value());
        execute(connection, "revoke-drop", "GRANT " + name + " TO CURRENT_USER;\n"
                + "SELECT pg_terminate_backend(pid, " + TERMINATE_WAIT_MILLIS + ") FROM pg_stat_activity WHERE usename = "
                + literal(connection, role.value()) + ";\n"
                + "REASSIGN OWNED BY " + name + " TO CURRENT_USER;\n"
                + "DROP OWNED BY " + name + ";\n"
                + "DROP ROLE " + name);
    }

    /** The roles of {@code lease} (normally one), found by prefix and lease-id suffix alone. */
    List<Found> find(Connection connection, LeaseId lease) throws SQLException {
        String sql = "SELECT r.rolname, ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
                + " WHERE m.member = r.oid ORDER BY 1) FROM pg_roles r WHERE starts_with(r.rolname, ?) AND right(r.rolname, ?) = ?";
        long start = System.nanoTime();
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            String suffix = RoleName.suffix(lease);
            statement.setString(1, prefix);
            statement.setInt(2, suffix.length());
            statement.setString(3, suffix);
            List<Found> found = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    Optional<RoleName> name = RoleName.parse(prefix, rows.getString(1));
                    if (name.isPresent() && name.get().lease().equals(lease)) {
                        Array groups = rows.getArray(2);
                        found.add(new Found(name.get(), List.of((String[]) groups.getArray())));
                    }
                }
            }
            return found;
        } finally {
            timing.roundTrip("revoke-find", System.nanoTime() - start);
        }
    }

    /** Every lease role with this broker's prefix. */
    List<RoleName> list(Connection connection) throws SQLException {
        long start = System.nanoTime();
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, ?)")) {
            statement.setString(1, prefix);
            List<RoleName> roles = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    RoleName.parse(prefix, rows.getString(1)).ifPresent(roles::add);
                }
            }
            return roles;
        } finally {
            timing.roundTrip("list", System.nanoTime() - start);
        }
    }

    private void execute(Connection connection, String step, String sql) throws SQLException {
        long start = System.nanoTime();
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } finally {
            timing.roundTrip(step, System.nanoTime() - start);
        }
    }

    private static String timestamp(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant);
    }

    private static String identifiers(List<String> names) throws SQLException {
        StringBuilder joined = new StringBuilder();
        for (String name : names) {
            if (!joined.isEmpty()) {
                joined.append(", ");
            }
            Utils.escapeIdentifier(joined, name);
        }
        return joined.toString();
    }

    private static String identifier(String name) throws SQLException {
        return Utils.escapeIdentifier(null, name).toString();
    }

    private static String literal(Connection connection, String value) throws SQLException {
        boolean standardStrings = connection.unwrap(BaseConnection.class).getStandardConformingStrings();
        return "'" + Utils.escapeLiteral(null, value, standardStrings) + "'";
    }
}
