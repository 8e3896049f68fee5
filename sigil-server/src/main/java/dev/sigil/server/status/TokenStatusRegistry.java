package dev.sigil.server.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.datastore.Datastore;
import java.net.URI;
import java.sql.Connection;
import dev.sigil.server.datastore.Transaction;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revocation that reaches relying parties which never call introspection: every access token carries
 * a {@code status} claim ({@code {"status_list": {"idx": i, "uri": ".../statuslists/<list>"}}}, IETF
 * OAuth Token Status List), and the list at that URI is a signed {@code statuslist+jwt} whose bit
 * {@code i} is set once the token is revoked.
 *
 * <p>Guarantees: a token's status row is written in the same transaction as its registry row (so a
 * token never carries a position nobody tracks), and revocation sets the bit in the same transaction
 * as the registry's {@code revoked_at} (so the list and introspection agree). The served list is at
 * most {@value #MAX_STALENESS_MILLIS} ms older than the database; relying parties may cache it for the
 * {@code ttl} it carries. Positions are allocated sequentially in blocks reserved from the database,
 * so several servers sharing a database never hand out the same position (privacy note: sequential
 * positions let a relying party that sees two tokens guess they were issued close in time).
 */
public final class TokenStatusRegistry {
    /** Entries per list: 2^20 bits, 128 KiB uncompressed, a few hundred bytes compressed when mostly valid. */
    public static final long LIST_SIZE = 1L << 20;
    static final long MAX_STALENESS_MILLIS = 1_000;
    private static final int BLOCK = 1_024;
    private static final Duration LIST_LIFETIME = Duration.ofMinutes(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(TokenStatusRegistry.class);

    /** What kind of token a status row tracks. */
    public enum Kind {
        ACCESS_TOKEN("access_token"), JWT_SVID("jwt_svid");

        private final String column;

        Kind(String column) {
            this.column = column;
        }
    }

    private record Cached(Instant builtAt, String token) {}

    private final Datastore datastore;
    private final Authority authority;
    private final Clock clock;
    private final String baseUri;
    private final Duration ttl;
    private final Map<Long, Cached> cache = new ConcurrentHashMap<>();
    private long nextIndex;
    private long blockEnd;
    /** A block reserved ahead and not yet in use, or -1. */
    private long spareStart = -1;
    private boolean reservingAhead;

    /**
     * @param baseUri the public base URL of the bundle endpoint (or the configured JWT issuer), under
     *                which lists are served at {@code /statuslists/<id>}
     * @param ttl     how long relying parties may cache a list (the {@code ttl} claim)
     */
    public TokenStatusRegistry(Datastore datastore, Authority authority, Clock clock, URI baseUri, Duration ttl) {
        this.datastore = datastore;
        this.authority = authority;
        this.clock = clock;
        String base = baseUri.toString();
        this.baseUri = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("status list ttl is " + ttl + "; it must be positive");
        }
        this.ttl = ttl;
    }

    /**
     * Reserves the next position. Positions come from blocks of {@value #BLOCK} reserved in the database;
     * once half of the current block is used the next one is reserved in the background, so a token
     * request waits for the database here only when a whole block went by before that reservation
     * committed (and on the first call).
     */
    public StatusRef allocate() {
        boolean reserveAhead;
        long global;
        synchronized (this) {
            if (nextIndex == blockEnd) {
                long start = spareStart >= 0 ? spareStart : reserveBlock();
                spareStart = -1;
                nextIndex = start;
                blockEnd = start + BLOCK;
            }
            global = nextIndex++;
            reserveAhead = spareStart < 0 && !reservingAhead && blockEnd - nextIndex <= BLOCK / 2;
            if (reserveAhead) {
                reservingAhead = true;
            }
        }
        if (reserveAhead) {
            Thread.ofVirtual().name("sigil-status-reserve").start(this::reserveAhead);
        }
        return new StatusRef(global / LIST_SIZE, global % LIST_SIZE);
    }

    private void reserveAhead() {
        try {
            long start = reserveBlock();
            synchronized (this) {
                spareStart = start;
            }
        } catch (RuntimeException e) {
            // the next allocation past the block reserves synchronously and reports the failure to its caller
            LOG.debug("reserving the next token status block failed: {}", e.getMessage());
        } finally {
            synchronized (this) {
                reservingAhead = false;
            }
        }
    }

    /** One database write: the first position of a fresh block nobody else (no other server) holds. */
    private long reserveBlock() {
        return datastore.inTransaction(connection -> {
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE token_status_counter SET next_idx = next_idx + ? WHERE id = 1")) {
                update.setInt(1, BLOCK);
                if (update.executeUpdate() != 1) {
                    throw new IllegalStateException("the token_status_counter row is missing; the schema is damaged");
                }
            }
            try (PreparedStatement select = connection.prepareStatement("SELECT next_idx FROM token_status_counter WHERE id = 1");
                 ResultSet row = select.executeQuery()) {
                row.next();
                return row.getLong(1) - BLOCK;
            }
        });
    }

    /** The URI of list {@code listId}, as written into tokens and as the list's own {@code sub}. */
    public String uri(long listId) {
        return baseUri + "/statuslists/" + listId;
    }

    /** The {@code status} claim value for a token at {@code ref}. */
    public Map<String, Object> claim(StatusRef ref) {
        Map<String, Object> statusList = new LinkedHashMap<>();
        statusList.put("idx", ref.index());
        statusList.put("uri", uri(ref.listId()));
        return Map.of("status_list", statusList);
    }

    /** {@link #claim} serialized as JSON, for signers that assemble claims as text. */
    public String claimJson(StatusRef ref) {
        try {
            return JSON.writeValueAsString(claim(ref));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a status claim", e);
        }
    }

    /** Records a token's position, in the caller's transaction (with the token's registry row). */
    public void record(Transaction transaction, StatusRef ref, Kind kind, String tokenRef, SpiffeId holder, Instant expiresAt)
            throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO token_status "
                + "(list_id, idx, kind, ref, holder, expires_at, status, changed_at) VALUES (?, ?, ?, ?, ?, ?, 0, NULL)")) {
            insert.setLong(1, ref.listId());
            insert.setLong(2, ref.index());
            insert.setString(3, kind.column);
            insert.setString(4, tokenRef);
            insert.setString(5, holder.toString());
            insert.setLong(6, expiresAt.toEpochMilli());
            insert.executeUpdate();
        }
    }

    /**
     * Marks the token at {@code position} invalid, in the caller's transaction; 1 when it was valid, 0 when
     * it was invalid already or the position was pruned. The caller finds the position where it registered
     * the token (an access token's registry row): the table has no index on {@code ref}.
     */
    public static int invalidate(Transaction transaction, StatusRef position, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE token_status SET status = 1, changed_at = ? WHERE list_id = ? AND idx = ? AND status = 0")) {
            update.setLong(1, at.toEpochMilli());
            update.setLong(2, position.listId());
            update.setLong(3, position.index());
            return update.executeUpdate();
        }
    }

    /** Marks every unexpired token held by {@code holder} invalid, in the caller's transaction (drift, ban, leak). */
    public static int invalidateHolder(Transaction transaction, SpiffeId holder, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE token_status SET status = 1, changed_at = ? WHERE holder = ? AND status = 0 AND expires_at > ?")) {
            update.setLong(1, at.toEpochMilli());
            update.setString(2, holder.toString());
            update.setLong(3, at.toEpochMilli());
            return update.executeUpdate();
        }
    }

    /**
     * The status of the token at position {@code idx} of the list at {@code uri} (0 valid, 1 invalid), or
     * empty when {@code uri} is not one of this server's lists or no token holds that position (never
     * issued, or pruned after it expired). Read from the database, so a revocation counts at once.
     */
    public Optional<Integer> status(String uri, long idx) {
        String prefix = baseUri + "/statuslists/";
        if (uri == null || !uri.startsWith(prefix) || idx < 0 || idx >= LIST_SIZE) {
            return Optional.empty();
        }
        long listId;
        try {
            listId = Long.parseLong(uri.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return datastore.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT status FROM token_status WHERE list_id = ? AND idx = ?")) {
                select.setLong(1, listId);
                select.setLong(2, idx);
                try (ResultSet row = select.executeQuery()) {
                    return row.next() ? Optional.of(row.getInt(1)) : Optional.<Integer>empty();
                }
            }
        });
    }

    /** Whether {@code holder} holds a token (JWT-SVID or access token) here that is valid and not expired at {@code at}. */
    public boolean holdsLive(SpiffeId holder, Instant at) {
        return datastore.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT 1 FROM token_status WHERE holder = ? AND status = 0 AND expires_at > ? LIMIT 1")) {
                select.setString(1, holder.toString());
                select.setLong(2, at.toEpochMilli());
                try (ResultSet row = select.executeQuery()) {
                    return row.next();
                }
            }
        });
    }

    /**
     * Marks the token at position {@code idx} of the list at {@code uri} invalid (a leaked JWT-SVID);
     * false when {@code uri} is not one of this server's lists or no valid token holds that position.
     */
    public boolean invalidateAt(String uri, long idx, Instant at) {
        String prefix = baseUri + "/statuslists/";
        if (uri == null || !uri.startsWith(prefix) || idx < 0 || idx >= LIST_SIZE) {
            return false;
        }
        long listId;
        try {
            listId = Long.parseLong(uri.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return false;
        }
        boolean changed = datastore.inTransaction(connection -> {
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE token_status SET status = 1, changed_at = ? WHERE list_id = ? AND idx = ? AND status = 0")) {
                update.setLong(1, at.toEpochMilli());
                update.setLong(2, listId);
                update.setLong(3, idx);
                return update.executeUpdate() > 0;
            }
        });
        if (changed) {
            cache.remove(listId);
        }
        return changed;
    }

    /** Deletes the positions of tokens that expired before {@code before} (an expired token's bit reads valid anyway). */
    public int pruneExpired(Instant before) {
        return datastore.inTransaction(connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM token_status WHERE expires_at < ?")) {
                delete.setLong(1, before.toEpochMilli());
                return delete.executeUpdate();
            }
        });
    }

    /**
     * The signed status list token for {@code listId}, or empty when no position of that list was
     * ever allocated. Rebuilt from the database when the cached one is older than
     * {@value #MAX_STALENESS_MILLIS} ms.
     */
    public Optional<String> listToken(long listId) {
        Instant now = clock.instant();
        Cached cached = cache.get(listId);
        if (cached != null && Duration.between(cached.builtAt(), now).toMillis() < MAX_STALENESS_MILLIS
                && !now.isBefore(cached.builtAt())) {
            return Optional.of(cached.token());
        }
        Optional<String> built = build(listId, now);
        built.ifPresent(token -> cache.put(listId, new Cached(now, token)));
        return built;
    }

    private Optional<String> build(long listId, Instant now) {
        StatusBits bits = new StatusBits(LIST_SIZE);
        boolean exists = datastore.read(connection -> {
            try (PreparedStatement counter = connection.prepareStatement("SELECT next_idx FROM token_status_counter WHERE id = 1");
                 ResultSet row = counter.executeQuery()) {
                if (!row.next() || row.getLong(1) <= listId * LIST_SIZE) {
                    return false;
                }
            }
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT idx FROM token_status WHERE list_id = ? AND status <> 0 AND expires_at > ?")) {
                select.setLong(1, listId);
                select.setLong(2, now.toEpochMilli());
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        bits.setInvalid(rows.getLong(1));
                    }
                }
            }
            return true;
        });
        if (!exists) {
            return Optional.empty();
        }
        Instant issuedAt = now.truncatedTo(ChronoUnit.SECONDS);
        Instant expiresAt = issuedAt.plus(LIST_LIFETIME);
        Instant deadline = authority.jwtSigningDeadline();
        if (expiresAt.isAfter(deadline)) {
            expiresAt = deadline.truncatedTo(ChronoUnit.SECONDS);
        }
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("sub", uri(listId));
        claims.put("iat", issuedAt.getEpochSecond());
        claims.put("exp", expiresAt.getEpochSecond());
        claims.put("ttl", ttl.toSeconds());
        claims.put("status_list", Map.of("bits", 1, "lst", bits.encoded()));
        try {
            return Optional.of(authority.signJwt(JSON.writeValueAsString(claims), expiresAt, "statuslist+jwt").compact());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a status list", e);
        }
    }
}
