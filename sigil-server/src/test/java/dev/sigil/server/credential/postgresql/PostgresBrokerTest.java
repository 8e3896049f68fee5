package dev.sigil.server.credential.postgresql;

import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerContract;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/** The shared broker contract against a real PostgreSQL, with a real login as the proof. */
class PostgresBrokerTest extends BrokerContract {
    private PostgresBrokerFixture fixture;
    private PostgresBroker postgres;

    @Override
    protected Broker newBroker() throws Exception {
        fixture = PostgresBrokerFixture.create();
        postgres = fixture.broker(Clock.systemUTC());
        return postgres;
    }

    @AfterEach
    void closeBroker() {
        postgres.close();
    }

    @Override
    protected String resource() {
        return "reports";
    }

    @Override
    protected String unknownResource() {
        return "payroll";
    }

    @Override
    protected Map<String, String> parameters() {
        return Map.of();
    }

    @Override
    protected boolean credentialWorks(LeaseGrant lease, Granted granted) {
        Map<String, String> secret = granted.secret().revealToHolder();
        try (Connection connection = DriverManager.getConnection(secret.get("url"), secret.get("username"), secret.get("password"));
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
            return rows.next() && rows.getInt(1) == 42;
        } catch (SQLException e) {
            return false;
        }
    }

    /** The lease's role exists in pg_roles and may log in. */
    @Override
    protected boolean grantedInBackend(LeaseGrant lease, Granted granted) throws SQLException {
        return roles("SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname = '" + granted.details().get("role") + "'") > 0;
    }

    /** No role for the lease: every role name the broker makes ends with the lease id. */
    @Override
    protected boolean revokedInBackend(LeaseGrant lease) throws SQLException {
        return roles("SELECT rolname FROM pg_roles WHERE rolname LIKE '%\\_" + lease.id().value() + "'") == 0;
    }

    @Override
    protected Instant expiryInBackend(LeaseGrant lease, Granted granted) throws SQLException {
        try (Connection su = fixture.superuserConnection(); Statement statement = su.createStatement();
                ResultSet rows = statement.executeQuery("SELECT rolvaliduntil FROM pg_roles WHERE rolname = '"
                        + granted.details().get("role") + "'")) {
            if (!rows.next()) {
                throw new AssertionError("no role " + granted.details().get("role"));
            }
            return rows.getTimestamp(1).toInstant();
        }
    }

    private int roles(String sql) throws SQLException {
        try (Connection su = fixture.superuserConnection(); Statement statement = su.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            int count = 0;
            while (rows.next()) {
                count++;
            }
            return count;
        }
    }
}
