package dev.sigil.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

    @Test
    void eachCreatedDatabaseIsEmptyAndReachableWithItsCredentials() throws Exception {
        PostgresServer server = PostgresServer.shared();
        PostgresServer.Database first = server.createDatabase();
        PostgresServer.Database second = server.createDatabase();

        try (Connection connection = DriverManager.getConnection(first.jdbcUrl(), first.user(), first.password());
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t (x INTEGER)");
        }
        try (Connection connection = DriverManager.getConnection(second.jdbcUrl(), second.user(), second.password());
                Statement statement = connection.createStatement();
                ResultSet tables = statement.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 't'")) {
            tables.next();
            assertThat(tables.getInt(1)).isZero();
        }
        assertThat(first.name()).isNotEqualTo(second.name());
        assertThat(first.toString()).doesNotContain(first.password());
    }

    @Test
    void theSharedServerIsStartedOncePerJvm() {
        assertThat(PostgresServer.shared()).isSameAs(PostgresServer.shared());
    }

    @Test
    void closingAnOwnServerStopsItAndDeletesItsFiles() throws Exception {
        PostgresServer server = PostgresServer.start();
        String url = server.jdbcUrl();

        server.close();

        assertThat(server.toString()).doesNotContain(server.password());
        assertThatThrownBy(() -> DriverManager.getConnection(url, server.user(), server.password()))
                .isInstanceOf(SQLException.class);
    }
}
