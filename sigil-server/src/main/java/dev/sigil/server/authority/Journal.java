package dev.sigil.server.authority;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The persisted rotation journal of one trust domain (tables {@code authority_journal} and
 * {@code authority_bundle}, migration V3).
 *
 * <p>Invariants, enforced by the schema and by conditional updates: at most one active and one
 * prepared authority per kind; states only move forward; every change to the set of authorities in
 * the bundle (insert, prune) increments {@code spiffe_sequence} in the same transaction. A transition
 * whose precondition no longer holds (another server got there first) fails with
 * {@link Conflict} and changes nothing.
 */
final class Journal {
    private static final String COLUMNS = "authority_id, kind, state, key_id, key_type, certificate_pem, upstream_chain_pem,"
            + " public_key_jwk, not_before, not_after, created_at, activated_at, retired_at, pruned_at, owner";

    /** The journal changed between reading and writing; re-read and decide again. */
    static final class Conflict extends AuthorityException {
        Conflict(String message) {
            super(message);
        }
    }

    private final Datastore datastore;
    private final TrustDomain trustDomain;

    Journal(Datastore datastore, TrustDomain trustDomain) {
        this.datastore = datastore;
        this.trustDomain = trustDomain;
    }

    /** Authorities not yet pruned, oldest first. */
    List<AuthorityRecord> current() {
        return query("SELECT " + COLUMNS + " FROM authority_journal WHERE trust_domain = ? AND state <> 'pruned'"
                + " ORDER BY not_before, created_at, authority_id");
    }

    /** Every authority ever recorded, pruned ones included, oldest first. */
    List<AuthorityRecord> all() {
        return query("SELECT " + COLUMNS + " FROM authority_journal WHERE trust_domain = ? ORDER BY not_before, created_at, authority_id");
    }

    long sequence() {
        return datastore.read(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(
                    "SELECT spiffe_sequence FROM authority_bundle WHERE trust_domain = ?")) {
                statement.setString(1, trustDomain.name());
                try (ResultSet rows = statement.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : 0L;
                }
            }
        });
    }

    /** Records a new prepared authority; returns the bundle's new sequence. */
    long insertPrepared(AuthorityRecord record, Instant now) {
        return datastore.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement("INSERT INTO authority_journal (" + COLUMNS
                    + ", trust_domain, updated_at) VALUES (?, ?, 'prepared', ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?)")) {
                statement.setString(1, record.authorityId());
                statement.setString(2, record.kind().storedName());
                statement.setString(3, record.keyId());
                statement.setString(4, record.keyType().configName());
                setText(statement, 5, record.certificatePem());
                setText(statement, 6, record.upstreamChainPem());
                setText(statement, 7, record.publicKeyJwk());
                statement.setLong(8, record.notBefore().toEpochMilli());
                statement.setLong(9, record.notAfter().toEpochMilli());
                statement.setLong(10, record.createdAt().toEpochMilli());
                statement.setString(11, record.owner());
                statement.setString(12, trustDomain.name());
                statement.setLong(13, now.toEpochMilli());
                statement.executeUpdate();
            } catch (SQLException e) {
                if (datastore.dialect().isUniqueViolation(e)) {
                    throw new Conflict("another " + record.kind().storedName() + " authority of this server is already prepared for "
                            + trustDomain);
                }
                throw e;
            }
            return bumpSequence(connection, now);
        });
    }

    /** Makes {@code prepared} the active authority and retires {@code active}, atomically. */
    void activate(AuthorityRecord prepared, Optional<AuthorityRecord> active, Instant now) {
        datastore.inTransaction(connection -> {
            if (active.isPresent()) {
                transition(connection, active.get(), "active", "retired", "retired_at", now);
            }
            transition(connection, prepared, "prepared", "active", "activated_at", now);
            return null;
        });
    }

    /** Marks {@code record} pruned; returns the bundle's new sequence. */
    long prune(AuthorityRecord record, Instant now) {
        return datastore.inTransaction(connection -> {
            transition(connection, record, record.state().storedName(), "pruned", "pruned_at", now);
            return bumpSequence(connection, now);
        });
    }

    /**
     * Makes {@code owner} the owner of an authority recorded without one (before servers had their own);
     * false when it has an owner by now (another server adopted it first).
     */
    boolean adopt(AuthorityRecord record, String owner, Instant now) {
        return datastore.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement("UPDATE authority_journal SET owner = ?, updated_at = ?"
                    + " WHERE authority_id = ? AND trust_domain = ? AND owner = ''")) {
                statement.setString(1, owner);
                statement.setLong(2, now.toEpochMilli());
                statement.setString(3, record.authorityId());
                statement.setString(4, trustDomain.name());
                return statement.executeUpdate() == 1;
            }
        });
    }

    private void transition(Connection connection, AuthorityRecord record, String from, String to, String timeColumn, Instant now)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("UPDATE authority_journal SET state = ?, "
                + timeColumn + " = ?, updated_at = ? WHERE authority_id = ? AND trust_domain = ? AND state = ?")) {
            statement.setString(1, to);
            statement.setLong(2, now.toEpochMilli());
            statement.setLong(3, now.toEpochMilli());
            statement.setString(4, record.authorityId());
            statement.setString(5, trustDomain.name());
            statement.setString(6, from);
            if (statement.executeUpdate() != 1) {
                throw new Conflict(record.kind().storedName() + " authority " + record.authorityId() + " is no longer " + from);
            }
        }
    }

    private long bumpSequence(Connection connection, Instant now) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO authority_bundle (trust_domain, spiffe_sequence,"
                + " updated_at) VALUES (?, 0, ?) ON CONFLICT (trust_domain) DO NOTHING")) {
            insert.setString(1, trustDomain.name());
            insert.setLong(2, now.toEpochMilli());
            insert.executeUpdate();
        }
        try (PreparedStatement update = connection.prepareStatement("UPDATE authority_bundle SET spiffe_sequence = spiffe_sequence + 1,"
                + " updated_at = ? WHERE trust_domain = ?")) {
            update.setLong(1, now.toEpochMilli());
            update.setString(2, trustDomain.name());
            update.executeUpdate();
        }
        try (PreparedStatement select = connection.prepareStatement("SELECT spiffe_sequence FROM authority_bundle WHERE trust_domain = ?")) {
            select.setString(1, trustDomain.name());
            try (ResultSet rows = select.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }

    private List<AuthorityRecord> query(String sql) {
        return datastore.read(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                statement.setString(1, trustDomain.name());
                try (ResultSet rows = statement.executeQuery()) {
                    List<AuthorityRecord> records = new ArrayList<>();
                    while (rows.next()) {
                        records.add(read(rows));
                    }
                    return List.copyOf(records);
                }
            }
        });
    }

    private static AuthorityRecord read(ResultSet rows) throws SQLException {
        return new AuthorityRecord(
                rows.getString("authority_id"),
                AuthorityKind.fromStored(rows.getString("kind")),
                AuthorityState.fromStored(rows.getString("state")),
                rows.getString("key_id"),
                KeyType.parse(rows.getString("key_type")),
                Optional.ofNullable(rows.getString("certificate_pem")),
                Optional.ofNullable(rows.getString("upstream_chain_pem")),
                Optional.ofNullable(rows.getString("public_key_jwk")),
                Instant.ofEpochMilli(rows.getLong("not_before")),
                Instant.ofEpochMilli(rows.getLong("not_after")),
                Instant.ofEpochMilli(rows.getLong("created_at")),
                instant(rows, "activated_at"),
                instant(rows, "retired_at"),
                instant(rows, "pruned_at"),
                rows.getString("owner"));
    }

    private static Optional<Instant> instant(ResultSet rows, String column) throws SQLException {
        long millis = rows.getLong(column);
        return rows.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    private static void setText(PreparedStatement statement, int index, Optional<String> value) throws SQLException {
        if (value.isPresent()) {
            statement.setString(index, value.get());
        } else {
            statement.setNull(index, Types.VARCHAR);
        }
    }
}
