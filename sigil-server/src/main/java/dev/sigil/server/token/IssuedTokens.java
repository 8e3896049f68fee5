package dev.sigil.server.token;

import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseStore;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.status.StatusRef;
import dev.sigil.server.status.TokenStatusRegistry;
import java.sql.Connection;
import dev.sigil.server.datastore.Transaction;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/**
 * The registry of access tokens the token service issued, by {@code jti}. Holds no token, only what
 * introspection and revocation need. A token absent from the registry is never active, so a token
 * whose registration (and audit record) failed cannot be used even if it leaked. Revoking here also
 * sets the token's bit on its status list in the same transaction, so the list agrees with
 * introspection.
 */
public final class IssuedTokens {
    /**
     * One registered token. {@code status} is its position on a status list, empty for a token registered
     * before positions were recorded here; revoking the token marks that position.
     */
    record Row(String jti, String subject, String audience, String scope, Optional<String> task, Optional<String> cnfX5t,
               Instant issuedAt, Instant expiresAt, Optional<Instant> revokedAt, Optional<StatusRef> status) {
    }

    private final Datastore datastore;
    private final LeaseStore leases;

    public IssuedTokens(Datastore datastore) {
        this.datastore = datastore;
        this.leases = LeaseStore.create(datastore);
    }

    /** Inserts in the caller's transaction (with the exchange's audit record). */
    void insert(Transaction transaction, Row row) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO issued_tokens (jti, subject, audience, scope, task, "
                + "cnf_x5t, issued_at, expires_at, revoked_at, status_list, status_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)")) {
            insert.setString(1, row.jti());
            insert.setString(2, row.subject());
            insert.setString(3, row.audience());
            insert.setString(4, row.scope());
            insert.setString(5, row.task().orElse(null));
            insert.setString(6, row.cnfX5t().orElse(null));
            insert.setLong(7, row.issuedAt().toEpochMilli());
            insert.setLong(8, row.expiresAt().toEpochMilli());
            if (row.status().isPresent()) {
                insert.setLong(9, row.status().get().listId());
                insert.setLong(10, row.status().get().index());
            } else {
                insert.setNull(9, java.sql.Types.BIGINT);
                insert.setNull(10, java.sql.Types.BIGINT);
            }
            insert.executeUpdate();
        }
    }

    Optional<Row> find(String jti) {
        return datastore.read(connection -> {
            try (PreparedStatement query = connection.prepareStatement("SELECT * FROM issued_tokens WHERE jti = ?")) {
                query.setString(1, jti);
                try (ResultSet rows = query.executeQuery()) {
                    if (!rows.next()) {
                        return Optional.empty();
                    }
                    long revoked = rows.getLong("revoked_at");
                    Optional<Instant> revokedAt = rows.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(revoked));
                    return Optional.of(new Row(rows.getString("jti"), rows.getString("subject"), rows.getString("audience"),
                            rows.getString("scope"), Optional.ofNullable(rows.getString("task")),
                            Optional.ofNullable(rows.getString("cnf_x5t")), Instant.ofEpochMilli(rows.getLong("issued_at")),
                            Instant.ofEpochMilli(rows.getLong("expires_at")), revokedAt, position(rows)));
                }
            }
        });
    }

    /** Marks one token revoked in the caller's transaction; true when it was active before. */
    boolean revoke(Transaction transaction, String jti, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE issued_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL")) {
            update.setLong(1, at.toEpochMilli());
            update.setString(2, jti);
            boolean revoked = update.executeUpdate() > 0;
            Optional<StatusRef> position = Optional.empty();
            try (PreparedStatement select = connection.prepareStatement("SELECT status_list, status_idx FROM issued_tokens WHERE jti = ?")) {
                select.setString(1, jti);
                try (ResultSet rows = select.executeQuery()) {
                    if (rows.next()) {
                        position = position(rows);
                    }
                }
            }
            if (position.isPresent()) {
                TokenStatusRegistry.invalidate(transaction, position.get(), at);
            }
            closeLease(transaction, jti, at);
            return revoked;
        }
    }

    /** The status position of the row at {@code rows}, empty when none was recorded. */
    private static Optional<StatusRef> position(ResultSet rows) throws SQLException {
        long list = rows.getLong("status_list");
        if (rows.wasNull()) {
            return Optional.empty();
        }
        return Optional.of(new StatusRef(list, rows.getLong("status_idx")));
    }

    /**
     * Revokes everything the token service issued to {@code holder} that is still live — its access
     * tokens (registry and status list) and its JWT-SVIDs (status list) — in the caller's transaction.
     * Returns the jtis of the access tokens it revoked, for the audit record that links them to the cause.
     */
    public java.util.List<String> revokeForHolder(Transaction transaction, String holder, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        java.util.List<String> jtis = new java.util.ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT jti FROM issued_tokens WHERE subject = ? AND revoked_at IS NULL AND expires_at > ?")) {
            select.setString(1, holder);
            select.setLong(2, at.toEpochMilli());
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    jtis.add(rows.getString(1));
                }
            }
        }
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE issued_tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL AND expires_at > ?")) {
            update.setLong(1, at.toEpochMilli());
            update.setString(2, holder);
            update.setLong(3, at.toEpochMilli());
            update.executeUpdate();
        }
        TokenStatusRegistry.invalidateHolder(transaction, dev.sigil.core.spiffeid.SpiffeId.parse(holder), at);
        for (String jti : jtis) {
            closeLease(transaction, jti, at);
        }
        return jtis;
    }

    /**
     * Closes the token's lease (broker {@code token}, id = jti) as revoked, so lease lists agree with
     * the registry whichever way the token was revoked (idempotent; a lease being revoked through the
     * lease service is left to it).
     */
    private void closeLease(Transaction transaction, String jti, Instant at) throws SQLException {
        LeaseId id;
        try {
            id = LeaseId.parse(jti);
        } catch (IllegalArgumentException e) {
            return; // a token registered before jtis were lease ids has no lease
        }
        leases.closeRevoked(transaction, id, "token revoked", at);
    }

    /**
     * Deletes the rows of tokens that expired before {@code before}; returns how many. An expired
     * token is inactive with or without its row, so pruning never re-activates anything; the audit
     * trail keeps the record of its issuance.
     */
    public int pruneExpired(Instant before) {
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM issued_tokens WHERE expires_at < ?")) {
                delete.setLong(1, before.toEpochMilli());
                return delete.executeUpdate();
            }
        });
    }

    /** Marks every token issued under {@code taskId} revoked, in the caller's transaction (the task's end). */
    public void revokeForTask(Transaction transaction, String taskId, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        java.util.List<StatusRef> positions = new java.util.ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT status_list, status_idx FROM issued_tokens WHERE task = ? AND revoked_at IS NULL")) {
            select.setString(1, taskId);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    position(rows).ifPresent(positions::add);
                }
            }
        }
        for (StatusRef position : positions) {
            TokenStatusRegistry.invalidate(transaction, position, at);
        }
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE issued_tokens SET revoked_at = ? WHERE task = ? AND revoked_at IS NULL")) {
            update.setLong(1, at.toEpochMilli());
            update.setString(2, taskId);
            update.executeUpdate();
        }
    }
}
