package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.DatastoreContract;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
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
            issued.insert(connection, row("jti-1", now.plus(Duration.ofMinutes(5))));
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
    }

    @Test
    void revokingAHolderRevokesItsLiveTokensAndMarksTheirPositions() {
        IssuedTokens issued = new IssuedTokens(datastore);
        Instant now = clock.instant();
        datastore.transaction(connection -> {
            issued.insert(connection, row("live", now.plus(Duration.ofMinutes(5))));
            issued.insert(connection, new IssuedTokens.Row("other", "spiffe://example.org/other", "https://api", "", Optional.empty(),
                    Optional.empty(), now, now.plus(Duration.ofMinutes(5)), Optional.empty()));
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
                expiresAt.minus(Duration.ofMinutes(5)), expiresAt, Optional.empty());
    }
}
