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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/** The shared broker contract against a real PostgreSQL, with a real login as the proof. */
class PostgresBrokerTest extends BrokerContract {
    private PostgresBroker postgres;
    private PostgresBrokerFixture fixture;

    @Override
    protected Broker newBroker() throws Exception {
        fixture = PostgresBrokerFixture.create();
        postgres = fixture.broker(Clock.systemUTC());
        return postgres;
    }

    private PostgresBrokerFixture fixture() {
        return fixture;
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

    /** The role's {@code VALID UNTIL}, as PostgreSQL itself will enforce it. */
    @Override
    protected java.util.Optional<java.time.Instant> backendExpiry(LeaseGrant lease, Granted granted) throws Exception {
        String role = granted.secret().revealToHolder().get("username");
        try (Connection connection = fixture().superuserConnection();
                java.sql.PreparedStatement select = connection.prepareStatement("SELECT rolvaliduntil FROM pg_roles WHERE rolname = ?")) {
            select.setString(1, role);
            try (ResultSet rows = select.executeQuery()) {
                if (!rows.next() || rows.getTimestamp(1) == null) {
                    return java.util.Optional.empty();
                }
                return java.util.Optional.of(rows.getTimestamp(1).toInstant());
            }
        }
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
}
