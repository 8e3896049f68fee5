package dev.sigil.server.agent.attestor;

import dev.sigil.server.datastore.Datastore;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * {@link SingleUseEvidence} in table used_node_tokens (migration V18). The primary key decides: of two
 * servers inserting the same key, the database lets exactly one insert a row ({@code ON CONFLICT DO
 * NOTHING}, the same statement on SQLite and PostgreSQL).
 */
final class SqlSingleUseEvidence implements SingleUseEvidence {
    private final Datastore datastore;
    private final Clock clock;

    SqlSingleUseEvidence(Datastore datastore, Clock clock) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public boolean firstUse(String attestorType, String key, Instant usableUntil) {
        Objects.requireNonNull(attestorType, "attestorType");
        Objects.requireNonNull(usableUntil, "usableUntil");
        if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("single-use evidence key is " + (key == null ? 0 : key.length())
                    + " characters; expected 1 to " + MAX_KEY_LENGTH);
        }
        return datastore.inTransaction(connection -> {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO used_node_tokens (token_key, attestor, used_at, "
                    + "expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (token_key) DO NOTHING")) {
                insert.setString(1, key);
                insert.setString(2, attestorType);
                insert.setLong(3, clock.millis());
                insert.setLong(4, usableUntil.toEpochMilli());
                return insert.executeUpdate() == 1;
            }
        });
    }

    @Override
    public int pruneExpired() {
        return datastore.inTransaction(connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM used_node_tokens WHERE expires_at < ?")) {
                delete.setLong(1, clock.millis());
                return delete.executeUpdate();
            }
        });
    }

    @Override
    public String toString() {
        return "SqlSingleUseEvidence";
    }
}
