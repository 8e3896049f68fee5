package dev.sigil.server.registration;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link JoinTokens} in table join_tokens (migration V1). */
final class SqlJoinTokens implements JoinTokens {
    /** Marks the string as a Sigil join token for secret scanners. */
    static final String PREFIX = "sigil_jt_";
    private static final int RANDOM_BYTES = 32;

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private final SecureRandom random;

    SqlJoinTokens(Datastore datastore, AuditTrail audit, Clock clock, SecureRandom random) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public IssuedJoinToken generate(Optional<SpiffeId> spiffeId, Duration ttl, String actor) {
        if (spiffeId == null) {
            throw RegistrationException.invalid("join token spiffe id is missing; pass Optional.empty() for none");
        }
        if (ttl == null || ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw RegistrationException.invalid("join token ttl is " + ttl + "; it must be positive and at most " + MAX_TTL);
        }
        SqlEntryStore.requireActor(actor);
        byte[] bytes = new byte[RANDOM_BYTES];
        random.nextBytes(bytes);
        String value = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        String hash = sha256Hex(value);
        Instant now = now();
        Instant expiresAt = now.plus(ttl).truncatedTo(ChronoUnit.MILLIS);
        IssuedJoinToken token = new IssuedJoinToken(value, idOf(hash), spiffeId, expiresAt);
        datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO join_tokens (token_hash, spiffe_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                insert.setString(1, hash);
                if (spiffeId.isPresent()) {
                    insert.setString(2, spiffeId.get().toString());
                } else {
                    insert.setNull(2, Types.VARCHAR);
                }
                insert.setString(3, actor);
                insert.setLong(4, now.toEpochMilli());
                insert.setLong(5, expiresAt.toEpochMilli());
                insert.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, "jointoken.create", subject(token.id()), Map.of(
                    "spiffe_id", spiffeId.map(SpiffeId::toString).orElse(""),
                    "expires_at", expiresAt.toString())));
            return null;
        });
        return token;
    }

    @Override
    public JoinTokenConsumption consume(String tokenValue, String actor) {
        SqlEntryStore.requireActor(actor);
        // Whatever was presented is only ever hashed: never stored, logged or echoed.
        String hash = sha256Hex(tokenValue == null ? "" : tokenValue);
        String id = idOf(hash);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Instant now = now();
            JoinTokenConsumption result = take(connection, hash, id, now);
            AuditEvent event = switch (result) {
                case JoinTokenConsumption.Consumed consumed -> AuditEvent.success(actor, "jointoken.consume", subject(id),
                        Map.of("spiffe_id", consumed.spiffeId().map(SpiffeId::toString).orElse("")));
                case JoinTokenConsumption.Expired expired -> AuditEvent.denied(actor, "jointoken.consume", subject(id),
                        Map.of("reason", "expired", "expired_at", expired.expiredAt().toString()));
                case JoinTokenConsumption.Unknown unknown -> AuditEvent.denied(actor, "jointoken.consume", subject(id),
                        Map.of("reason", "unknown"));
            };
            audit.append(transaction, event);
            return result;
        });
    }

    /**
     * Reads, then deletes, the token row; the DELETE's row count decides. With two servers racing on
     * one PostgreSQL, both may read the row but only one DELETE affects it; the other sees Unknown.
     */
    private static JoinTokenConsumption take(Connection connection, String hash, String id, Instant now) throws SQLException {
        Optional<SpiffeId> spiffeId;
        Instant expiresAt;
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT spiffe_id, expires_at FROM join_tokens WHERE token_hash = ?")) {
            select.setString(1, hash);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next()) {
                    return new JoinTokenConsumption.Unknown();
                }
                spiffeId = Optional.ofNullable(row.getString(1)).map(SpiffeId::parse);
                expiresAt = Instant.ofEpochMilli(row.getLong(2));
            }
        }
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM join_tokens WHERE token_hash = ?")) {
            delete.setString(1, hash);
            if (delete.executeUpdate() != 1) {
                return new JoinTokenConsumption.Unknown();
            }
        }
        return now.isBefore(expiresAt)
                ? new JoinTokenConsumption.Consumed(id, spiffeId, expiresAt)
                : new JoinTokenConsumption.Expired(id, expiresAt);
    }

    @Override
    public int pruneExpired(String actor) {
        SqlEntryStore.requireActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            int pruned;
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM join_tokens WHERE expires_at <= ?")) {
                delete.setLong(1, now().toEpochMilli());
                pruned = delete.executeUpdate();
            }
            if (pruned > 0) {
                audit.append(transaction, AuditEvent.success(actor, "jointoken.prune", "jointokens",
                        Map.of("count", Integer.toString(pruned))));
            }
            return pruned;
        });
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static String subject(String id) {
        return "jointoken:" + id;
    }

    /** 64 bits of the hash: enough to tell tokens apart in records, useless for guessing the token. */
    private static String idOf(String hash) {
        return hash.substring(0, 16);
    }

    static String sha256Hex(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }
}
