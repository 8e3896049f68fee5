package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.datastore.Dialect;
import dev.sigil.server.status.StatusRef;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * The access-token registry and the revocation state it changes with a token (status bits, the token's
 * lease), on every datastore dialect.
 */
abstract class IssuedTokensContract extends DatastoreContract {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");

    @Test
    void expiredTokenRowsArePrunedAndLiveOnesKept() {
        IssuedTokens issued = new IssuedTokens(datastore);
        Instant now = clock.instant();
        datastore.transaction(connection -> {
            issued.insert(connection, row("expired", now.minus(Duration.ofHours(2))));
            issued.insert(connection, row("live", now.plus(Duration.ofMinutes(5))));
            return null;
        });

        assertThat(issued.pruneExpired(now.minus(Duration.ofHours(1)))).isEqualTo(1);
        assertThat(issued.find("expired")).isEmpty();
        assertThat(issued.find("live")).isPresent();
    }

    @Test
    void revokingATokenAlsoMarksItsStatusPosition() {
        IssuedTokens issued = new IssuedTokens(datastore);
        Instant now = clock.instant();
        datastore.transaction(connection -> {
            issued.insert(connection, row("jti-1", now.plus(Duration.ofMinutes(5)), new StatusRef(0, 3)));
            try (var insert = connection.jdbc().prepareStatement("INSERT INTO token_status (list_id, idx, kind, ref, holder, expires_at, status) "
                    + "VALUES (0, 3, 'access_token', 'jti-1', ?, ?, 0)")) {
                insert.setString(1, WEB.toString());
                insert.setLong(2, now.plus(Duration.ofMinutes(5)).toEpochMilli());
                insert.executeUpdate();
            }
            return null;
        });

        datastore.transaction(connection -> issued.revoke(connection, "jti-1", now));

        assertThat(count("SELECT COUNT(*) FROM token_status WHERE ref = 'jti-1' AND status = 1")).isEqualTo(1);
        assertThat(issued.find("jti-1").orElseThrow().status()).contains(new StatusRef(0, 3));
    }

    @Test
    void revokingATaskMarksTheStatusPositionsOfItsTokens() {
        IssuedTokens issued = new IssuedTokens(datastore);
        Instant now = clock.instant();
        Instant expires = now.plus(Duration.ofMinutes(5));
        datastore.transaction(connection -> {
            issued.insert(connection, new IssuedTokens.Row("in-task", WEB.toString(), "https://api", "", Optional.of("task-1"), Optional.empty(),
                    now, expires, Optional.empty(), Optional.of(new StatusRef(0, 7))));
            issued.insert(connection, row("outside", expires, new StatusRef(0, 8)));
            try (var insert = connection.jdbc().prepareStatement("INSERT INTO token_status (list_id, idx, kind, ref, holder, expires_at, status) "
                    + "VALUES (0, 7, 'access_token', 'in-task', ?, ?, 0), (0, 8, 'access_token', 'outside', ?, ?, 0)")) {
                insert.setString(1, WEB.toString());
                insert.setLong(2, expires.toEpochMilli());
                insert.setString(3, WEB.toString());
                insert.setLong(4, expires.toEpochMilli());
                insert.executeUpdate();
            }
            return null;
        });

        datastore.transaction(connection -> {
            issued.revokeForTask(connection, "task-1", now);
            return null;
        });

        assertThat(count("SELECT status FROM token_status WHERE list_id = 0 AND idx = 7")).isEqualTo(1);
        assertThat(count("SELECT status FROM token_status WHERE list_id = 0 AND idx = 8")).isZero();
    }

    /**
     * V27 moved the look-up of an access token's status position from an index on {@code token_status.ref}
     * to the token's registry row: a token issued before the upgrade gets its position copied there, so
     * revoking it after the upgrade still marks its bit (relying parties read the list, not the registry).
     */
    @Test
    void aTokenIssuedBeforeTheUpgradeIsStillMarkedOnItsStatusListWhenRevoked() throws SQLException {
        DatastoreConfig old = config.dialect() == Dialect.SQLITE ? DatastoreConfig.sqlite(tmp.resolve("before-v26.db")) : freshPostgresDatabase();
        Flyway.configure().dataSource(old.jdbcUrl(), old.user(), old.password())
                .locations("classpath:db/migration/common", "classpath:db/migration/" + old.dialect().name().toLowerCase())
                .table("sigil_schema_history").failOnMissingLocations(false).target("25").load().migrate(); // (V26 is SQLite's only)
        long expires = clock.instant().plus(Duration.ofMinutes(5)).toEpochMilli();
        try (Connection connection = DriverManager.getConnection(old.jdbcUrl(), old.user(), old.password());
                PreparedStatement token = connection.prepareStatement("INSERT INTO issued_tokens (jti, subject, audience, scope, issued_at, "
                        + "expires_at) VALUES ('before-upgrade', ?, 'https://api', '', ?, ?)");
                PreparedStatement status = connection.prepareStatement("INSERT INTO token_status (list_id, idx, kind, ref, holder, expires_at, "
                        + "status) VALUES (2, 41, 'access_token', 'before-upgrade', ?, ?, 0), (2, 42, 'jwt_svid', 'before-upgrade', ?, ?, 0)")) {
            token.setString(1, WEB.toString());
            token.setLong(2, clock.instant().toEpochMilli());
            token.setLong(3, expires);
            token.executeUpdate();
            status.setString(1, WEB.toString());
            status.setLong(2, expires);
            status.setString(3, WEB.toString());
            status.setLong(4, expires);
            status.executeUpdate();
        }

        try (Datastore upgraded = Datastore.open(old)) {
            IssuedTokens issued = new IssuedTokens(upgraded);
            assertThat(issued.find("before-upgrade").orElseThrow().status()).contains(new StatusRef(2, 41));
            boolean revoked = upgraded.transaction(connection -> issued.revoke(connection, "before-upgrade", clock.instant()));
            String statuses = upgraded.read(connection -> {
                try (PreparedStatement query = connection.prepareStatement("SELECT idx, status FROM token_status WHERE list_id = 2 ORDER BY idx");
                        ResultSet rows = query.executeQuery()) {
                    StringBuilder bits = new StringBuilder();
                    while (rows.next()) {
                        bits.append(rows.getLong(1)).append('=').append(rows.getInt(2)).append(' ');
                    }
                    return bits.toString().strip();
                }
            });

            assertThat(revoked).isTrue();
            assertThat(statuses).isEqualTo("41=1 42=0");
        }
    }

    @Test
    void revokingAHolderRevokesItsLiveTokensAndMarksTheirPositions() {
        IssuedTokens issued = new IssuedTokens(datastore);
        Instant now = clock.instant();
        datastore.transaction(connection -> {
            issued.insert(connection, row("live", now.plus(Duration.ofMinutes(5))));
            issued.insert(connection, new IssuedTokens.Row("other", "spiffe://example.org/other", "https://api", "", Optional.empty(),
                    Optional.empty(), now, now.plus(Duration.ofMinutes(5)), Optional.empty(), Optional.empty()));
            try (var insert = connection.jdbc().prepareStatement("INSERT INTO token_status (list_id, idx, kind, ref, holder, expires_at, status) "
                    + "VALUES (0, 1, 'access_token', 'live', ?, ?, 0), (0, 2, 'jwt_svid', 'svid:0:2', ?, ?, 0)")) {
                insert.setString(1, WEB.toString());
                insert.setLong(2, now.plus(Duration.ofMinutes(5)).toEpochMilli());
                insert.setString(3, WEB.toString());
                insert.setLong(4, now.plus(Duration.ofMinutes(5)).toEpochMilli());
                insert.executeUpdate();
            }
            return null;
        });

        var revoked = datastore.transaction(connection -> issued.revokeForHolder(connection, WEB.toString(), now));

        assertThat(revoked).containsExactly("live");
        assertThat(issued.find("live").orElseThrow().revokedAt()).isPresent();
        assertThat(issued.find("other").orElseThrow().revokedAt()).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM token_status WHERE holder = '" + WEB + "' AND status = 1")).isEqualTo(2);
    }

    private static IssuedTokens.Row row(String jti, Instant expiresAt) {
        return new IssuedTokens.Row(jti, WEB.toString(), "https://api", "", Optional.empty(), Optional.empty(),
                expiresAt.minus(Duration.ofMinutes(5)), expiresAt, Optional.empty(), Optional.empty());
    }

    private static IssuedTokens.Row row(String jti, Instant expiresAt, StatusRef status) {
        return new IssuedTokens.Row(jti, WEB.toString(), "https://api", "", Optional.empty(), Optional.empty(),
                expiresAt.minus(Duration.ofMinutes(5)), expiresAt, Optional.empty(), Optional.of(status));
    }
}
