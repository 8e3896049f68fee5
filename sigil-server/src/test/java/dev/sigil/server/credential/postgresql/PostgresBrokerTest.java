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

    @Override
    protected Broker newBroker() throws Exception {
        postgres = PostgresBrokerFixture.create().broker(Clock.systemUTC());
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
}
