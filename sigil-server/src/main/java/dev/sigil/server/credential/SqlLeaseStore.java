package dev.sigil.server.credential;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Dialect;
import dev.sigil.server.datastore.Transaction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** {@link LeaseStore} on the datastore's {@code leases} table (V8), portable SQL for SQLite and PostgreSQL. */
final class SqlLeaseStore implements LeaseStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ERROR = 500;
    private static final String LIVE = "('pending', 'active')";

    private final Datastore datastore;

    SqlLeaseStore(Datastore datastore) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
    }

    @Override
    public void insert(Transaction transaction, Lease lease, String server) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO leases (id, broker, holder, task, resource, agent, "
                + "delegation, issued_at, expires_at, max_expires_at, state, details, leak_hash, revoke_reason, revoke_requested_at, "
                + "revoked_at, attempts, last_error, next_attempt_at, server) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            Optional<Lease.Revocation> revocation = lease.revocation();
            insert.setString(1, lease.id().value());
            insert.setString(2, lease.broker());
            insert.setString(3, lease.holder().toString());
            insert.setString(4, lease.task().orElse(null));
            insert.setString(5, lease.resource());
            insert.setString(6, lease.agent().map(SpiffeId::toString).orElse(null));
            insert.setString(7, String.join("\n", lease.delegation().stream().map(SpiffeId::toString).toList()));
            insert.setLong(8, lease.issuedAt().toEpochMilli());
            insert.setLong(9, lease.expiresAt().toEpochMilli());
            insert.setLong(10, lease.maxExpiresAt().toEpochMilli());
            insert.setString(11, lease.state().wireName());
            insert.setString(12, json(lease.details()));
            insert.setString(13, lease.leakHash().orElse(null));
            insert.setString(14, revocation.map(Lease.Revocation::reason).orElse(null));
            setInstant(insert, 15, revocation.map(Lease.Revocation::requestedAt));
            setInstant(insert, 16, revocation.flatMap(Lease.Revocation::revokedAt));
            insert.setInt(17, revocation.map(Lease.Revocation::attempts).orElse(0));
            insert.setString(18, revocation.flatMap(Lease.Revocation::lastError).orElse(null));
            setInstant(insert, 19, revocation.flatMap(Lease.Revocation::nextAttemptAt));
            insert.setString(20, server);
            insert.executeUpdate();
        }
    }

    @Override
    public Optional<Lease> find(LeaseId id) {
        return datastore.read(connection -> find(connection, id));
    }

    @Override
    public Optional<Lease> find(Transaction transaction, LeaseId id) throws SQLException {
        return find(transaction.jdbc(), id);
    }

    private Optional<Lease> find(Connection connection, LeaseId id) throws SQLException {
        List<Lease> found = query(connection, "SELECT * FROM leases WHERE id = ?", List.of(id.value()));
        return found.stream().findFirst();
    }

    @Override
    public List<Lease> list(LeaseFilter filter, int limit) {
        return datastore.read(connection -> select(connection, filter, Optional.empty(), limit));
    }

    private List<Lease> select(Connection connection, LeaseFilter filter, Optional<String> stateClause, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT * FROM leases WHERE 1 = 1");
        List<Object> values = new ArrayList<>();
        filter.id().ifPresent(v -> add(sql, values, " AND id = ?", v.value()));
        filter.holder().ifPresent(v -> add(sql, values, " AND holder = ?", v.toString()));
        filter.task().ifPresent(v -> add(sql, values, " AND task = ?", v));
        filter.agent().ifPresent(v -> add(sql, values, " AND agent = ?", v.toString()));
        filter.broker().ifPresent(v -> add(sql, values, " AND broker = ?", v));
        filter.prefix().ifPresent(v -> {
            // a range of ids in byte order (ids are a-z and 2-7, all below '{'): on SQLite the primary key's
            // (BINARY collation), on PostgreSQL an index in the C collation (V29). Neither needs an index of
            // the first characters, which every random lease id would touch at a random page, and which time-
            // ordered ids (LeaseId.timeOrdered) share by the million.
            String id = datastore.dialect() == Dialect.SQLITE ? "id" : "id COLLATE \"C\"";
            add(sql, values, " AND " + id + " >= ?", v);
            add(sql, values, " AND " + id + " < ?", v + "{");
            add(sql, values, " AND substr(id, 1, " + v.length() + ") = ?", v);
        });
        filter.state().ifPresent(v -> add(sql, values, " AND state = ?", v.wireName()));
        stateClause.ifPresent(sql::append);
        sql.append(" ORDER BY issued_at DESC, id LIMIT ").append(Math.max(1, Math.min(limit, 100_000)));
        return query(connection, sql.toString(), values);
    }

    private static void add(StringBuilder sql, List<Object> values, String clause, Object value) {
        sql.append(clause);
        values.add(value);
    }

    @Override
    public boolean activate(Transaction transaction, LeaseId id, Map<String, String> details, String leakHash) throws SQLException {
        Connection connection = transaction.jdbc();
        return update(connection, "UPDATE leases SET state = 'active', details = ?, leak_hash = ? WHERE id = ? AND state = 'pending'",
                json(details), leakHash, id.value()) > 0;
    }

    @Override
    public boolean renew(Transaction transaction, LeaseId id, Instant newExpiry) throws SQLException {
        Connection connection = transaction.jdbc();
        return update(connection, "UPDATE leases SET expires_at = ? WHERE id = ? AND state = 'active' AND max_expires_at >= ?",
                newExpiry.toEpochMilli(), id.value(), newExpiry.toEpochMilli()) > 0;
    }

    @Override
    public List<Lease> markRevoking(Transaction transaction, LeaseFilter filter, String reason, Instant at, Optional<String> server,
                                    Instant nextAttemptAt) throws SQLException {
        Connection connection = transaction.jdbc();
        List<Lease> candidates = select(connection, filter, Optional.of(" AND state IN " + LIVE), 100_000);
        List<Lease> marked = new ArrayList<>();
        try (PreparedStatement update = connection.prepareStatement("UPDATE leases SET state = 'revoking', revoke_reason = ?, "
                + "revoke_requested_at = ?, attempts = 0, last_error = NULL, next_attempt_at = ?, server = ? WHERE id = ? AND state IN "
                + LIVE)) {
            for (Lease lease : candidates) {
                bind(update, Arrays.asList(clip(reason), at.toEpochMilli(), nextAttemptAt.toEpochMilli(), server.orElse(null),
                        lease.id().value()));
                if (update.executeUpdate() > 0) {
                    marked.add(lease);
                }
            }
        }
        return marked;
    }

    @Override
    public boolean reopen(Transaction transaction, LeaseId id, String reason, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        return update(connection, "UPDATE leases SET state = 'revoking', revoke_reason = ?, revoke_requested_at = ?, revoked_at = NULL, "
                + "attempts = 0, last_error = NULL, next_attempt_at = ?, server = NULL WHERE id = ? AND state = 'revoked'",
                clip(reason), at.toEpochMilli(), at.toEpochMilli(), id.value()) > 0;
    }

    @Override
    public boolean claim(LeaseId id, String server, Instant now, Instant until) {
        return datastore.inTransaction(connection -> update(connection, "UPDATE leases SET server = ?, next_attempt_at = ? "
                + "WHERE id = ? AND state = 'revoking' AND next_attempt_at <= ?", server, until.toEpochMilli(), id.value(),
                now.toEpochMilli())) > 0;
    }

    @Override
    public int retryClaimsOfGone(Instant at, Set<String> live, boolean unclaimedToo) {
        List<Object> values = new ArrayList<>(List.of(at.toEpochMilli(), at.toEpochMilli()));
        values.addAll(live);
        String gone = live.isEmpty() ? "server IS NOT NULL" : "server NOT IN (" + marks(live.size()) + ")";
        String who = unclaimedToo ? "(server IS NULL OR " + gone + ")" : "(server IS NOT NULL AND " + gone + ")";
        return datastore.inTransaction(connection -> update(connection, "UPDATE leases SET next_attempt_at = ?, server = NULL "
                + "WHERE state = 'revoking' AND next_attempt_at > ? AND " + who, values.toArray()));
    }

    @Override
    public int releaseClaims(Collection<LeaseId> ids, String server, Instant at) {
        List<LeaseId> all = List.copyOf(ids);
        return datastore.inTransaction(connection -> {
            int released = 0;
            for (int from = 0; from < all.size(); from += BIND_CHUNK) { // both databases limit the bound parameters
                List<LeaseId> chunk = all.subList(from, Math.min(all.size(), from + BIND_CHUNK));
                List<Object> values = new ArrayList<>(List.of(at.toEpochMilli(), server));
                chunk.forEach(id -> values.add(id.value()));
                released += update(connection, "UPDATE leases SET next_attempt_at = ?, server = NULL "
                        + "WHERE state = 'revoking' AND server = ? AND id IN (" + marks(chunk.size()) + ")", values.toArray());
            }
            return released;
        });
    }

    @Override
    public List<Lease> pendingOfGone(Set<String> live, int limit) {
        List<Object> values = new ArrayList<>(live);
        String gone = live.isEmpty() ? " OR server IS NOT NULL" : " OR server NOT IN (" + marks(live.size()) + ")";
        return datastore.read(connection -> query(connection, "SELECT * FROM leases WHERE state = 'pending' AND (server IS NULL" + gone
                + ") ORDER BY issued_at, id LIMIT " + limit, values));
    }

    private static final int BIND_CHUNK = 500;

    private static String marks(int count) {
        return String.join(", ", java.util.Collections.nCopies(count, "?"));
    }

    @Override
    public boolean markRevoked(Transaction transaction, LeaseId id, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        return update(connection, "UPDATE leases SET state = 'revoked', revoked_at = ?, next_attempt_at = NULL, server = NULL "
                + "WHERE id = ? AND state = 'revoking'", at.toEpochMilli(), id.value()) > 0;
    }

    @Override
    public boolean closeRevoked(Transaction transaction, LeaseId id, String reason, Instant at) throws SQLException {
        Connection connection = transaction.jdbc();
        return update(connection, "UPDATE leases SET state = 'revoked', revoke_reason = ?, revoke_requested_at = ?, revoked_at = ? "
                + "WHERE id = ? AND state = 'active'", clip(reason), at.toEpochMilli(), at.toEpochMilli(), id.value()) > 0;
    }

    @Override
    public List<SpiffeId> liveHoldersThroughAgents() {
        return datastore.read(connection -> {
            List<SpiffeId> holders = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT DISTINCT holder FROM leases WHERE state IN " + LIVE + " AND agent IS NOT NULL");
                 ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    holders.add(SpiffeId.parse(rows.getString(1)));
                }
            }
            return holders;
        });
    }

    @Override
    public void recordFailure(LeaseId id, int attempts, String error, Instant nextAttemptAt) {
        datastore.inTransaction(connection -> update(connection, "UPDATE leases SET attempts = ?, last_error = ?, next_attempt_at = ?, "
                + "server = NULL WHERE id = ? AND state = 'revoking'", attempts, clip(error), nextAttemptAt.toEpochMilli(), id.value()));
    }

    @Override
    public List<Lease> dueForRevocation(Instant now, int limit) {
        return datastore.read(connection -> query(connection, "SELECT * FROM leases WHERE state = 'revoking' AND next_attempt_at <= ? "
                + "ORDER BY next_attempt_at, id LIMIT " + limit, List.of(now.toEpochMilli())));
    }

    @Override
    public List<Lease> expired(Instant now, int limit) {
        return datastore.read(connection -> query(connection, "SELECT * FROM leases WHERE state = 'active' AND expires_at <= ? "
                + "ORDER BY expires_at, id LIMIT " + limit, List.of(now.toEpochMilli())));
    }

    @Override
    public int closeExpired(String broker, Instant now) {
        return datastore.inTransaction(connection -> update(connection, "UPDATE leases SET state = 'revoked', revoke_reason = 'expired', "
                + "revoke_requested_at = ?, revoked_at = ? WHERE broker = ? AND state = 'active' AND expires_at <= ?",
                now.toEpochMilli(), now.toEpochMilli(), broker, now.toEpochMilli()));
    }

    @Override
    public List<Lease> pendingSince(Instant before, int limit) {
        return datastore.read(connection -> query(connection, "SELECT * FROM leases WHERE state = 'pending' AND issued_at < ? "
                + "ORDER BY issued_at, id LIMIT " + limit, List.of(before.toEpochMilli())));
    }

    @Override
    public List<Lease> findByLeakHash(List<String> hashes) {
        if (hashes.isEmpty()) {
            return List.of();
        }
        String marks = String.join(", ", hashes.stream().map(h -> "?").toList());
        // the condition of the partial index leases_leak_hash (V28), word for word, so the planner uses it
        return datastore.read(connection -> query(connection, "SELECT * FROM leases WHERE leak_hash IN (" + marks + ") "
                + "AND broker NOT IN ('token', 'txn_token')", List.copyOf(hashes)));
    }

    @Override
    public Map<LeaseState, Long> countByState() {
        return datastore.read(connection -> {
            Map<LeaseState, Long> counts = new EnumMap<>(LeaseState.class);
            Arrays.stream(LeaseState.values()).forEach(state -> counts.put(state, 0L));
            try (PreparedStatement query = connection.prepareStatement("SELECT state, COUNT(*) FROM leases GROUP BY state");
                    ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    counts.put(LeaseState.parse(rows.getString(1)), rows.getLong(2));
                }
            }
            return counts;
        });
    }

    @Override
    public long failingRevocations() {
        return datastore.read(connection -> {
            try (PreparedStatement query = connection.prepareStatement("SELECT COUNT(*) FROM leases WHERE state = 'revoking' AND attempts > 0");
                    ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        });
    }

    private static int update(Connection connection, String sql, Object... values) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(sql)) {
            bind(update, Arrays.asList(values));
            return update.executeUpdate();
        }
    }

    private static List<Lease> query(Connection connection, String sql, List<Object> values) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            bind(query, values);
            List<Lease> leases = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    leases.add(row(rows));
                }
            }
            return leases;
        }
    }

    private static void bind(PreparedStatement statement, List<Object> values) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            Object value = values.get(i);
            if (value instanceof Long l) {
                statement.setLong(i + 1, l);
            } else if (value instanceof Integer n) {
                statement.setInt(i + 1, n);
            } else if (value == null) {
                statement.setNull(i + 1, Types.VARCHAR);
            } else {
                statement.setString(i + 1, value.toString());
            }
        }
    }

    private static Lease row(ResultSet rows) throws SQLException {
        String delegation = rows.getString("delegation");
        Optional<Lease.Revocation> revocation = Optional.empty();
        String reason = rows.getString("revoke_reason");
        if (reason != null) {
            revocation = Optional.of(new Lease.Revocation(reason, Instant.ofEpochMilli(rows.getLong("revoke_requested_at")),
                    rows.getInt("attempts"), Optional.ofNullable(rows.getString("last_error")), instant(rows, "next_attempt_at"),
                    instant(rows, "revoked_at")));
        }
        return new Lease(LeaseId.parse(rows.getString("id")), rows.getString("broker"), SpiffeId.parse(rows.getString("holder")),
                Optional.ofNullable(rows.getString("task")), rows.getString("resource"),
                Instant.ofEpochMilli(rows.getLong("issued_at")), Instant.ofEpochMilli(rows.getLong("expires_at")),
                Instant.ofEpochMilli(rows.getLong("max_expires_at")), LeaseState.parse(rows.getString("state")),
                details(rows.getString("details")), Optional.ofNullable(rows.getString("leak_hash")),
                Optional.ofNullable(rows.getString("agent")).map(SpiffeId::parse),
                delegation.isEmpty() ? List.of() : Arrays.stream(delegation.split("\n")).map(SpiffeId::parse).toList(), revocation);
    }

    private static Optional<Instant> instant(ResultSet rows, String column) throws SQLException {
        long value = rows.getLong(column);
        return rows.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(value));
    }

    private static void setInstant(PreparedStatement statement, int index, Optional<Instant> value) throws SQLException {
        if (value.isPresent()) {
            statement.setLong(index, value.get().toEpochMilli());
        } else {
            statement.setNull(index, Types.BIGINT);
        }
    }

    private static String json(Map<String, String> details) {
        try {
            return JSON.writeValueAsString(new java.util.TreeMap<>(details));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write lease details as json: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> details(String text) {
        try {
            return JSON.readValue(text, new TypeReference<Map<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored lease details are not a json object of strings: " + e.getOriginalMessage(), e);
        }
    }

    /** A revocation reason or error as stored: clipped to {@value #MAX_ERROR} characters. */
    static String clip(String text) {
        return dev.sigil.core.Printable.clip(text, MAX_ERROR);
    }
}
