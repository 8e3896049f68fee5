package dev.sigil.server.task;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.Connection;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

final class SqlTaskStore implements TaskStore {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_ALLOWED = 64;
    private static final int MAX_TEXT = 1024;

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private final EndListener onEnd;

    SqlTaskStore(Datastore datastore, AuditTrail audit, Clock clock, EndListener onEnd) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.onEnd = Objects.requireNonNull(onEnd, "onEnd");
    }

    @Override
    public Task create(String owner, SpiffeId holder, String purpose, List<Task.Permission> allowed, Duration ttl, String actor) {
        AuditEvent.checkActor(actor);
        text("owner", owner);
        text("purpose", purpose);
        Objects.requireNonNull(holder, "holder");
        if (allowed == null || allowed.isEmpty() || allowed.size() > MAX_ALLOWED) {
            throw new IllegalArgumentException("a task needs 1 to " + MAX_ALLOWED + " allowed ACTION:RESOURCE pairs, got "
                    + (allowed == null ? 0 : allowed.size()));
        }
        if (ttl == null || ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("task ttl is " + ttl + "; it must be positive and at most " + MAX_TTL);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        Task task = new Task("task-" + HexFormat.of().formatHex(randomBytes()), owner, holder, purpose,
                List.copyOf(allowed), now, now.plus(ttl), Optional.empty());
        String allowedText = String.join("\n", task.allowed().stream().map(Task.Permission::toString).toList());
        if (allowedText.length() > 16 * MAX_TEXT) {
            throw new IllegalArgumentException("the allowed list is too long (" + allowedText.length() + " characters)");
        }
        datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO tasks (id, owner, holder, purpose, allowed, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                insert.setString(1, task.id());
                insert.setString(2, owner);
                insert.setString(3, holder.toString());
                insert.setString(4, purpose);
                insert.setString(5, allowedText);
                insert.setLong(6, now.toEpochMilli());
                insert.setLong(7, task.expiresAt().toEpochMilli());
                insert.setNull(8, Types.BIGINT);
                insert.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, "task.create", task.id(), Map.of(
                    "owner", owner, "holder", holder.toString(), "purpose", truncate(purpose),
                    "allowed", truncate(allowedText.replace('\n', ' ')), "expires_at", task.expiresAt().toString())));
            return null;
        });
        return task;
    }

    @Override
    public Task end(String id, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Task task = find(connection, id).orElseThrow(() -> new TaskException("no task has id '" + id + "'", true));
            Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
            if (task.state(now) != Task.State.ACTIVE) {
                throw new TaskException("task '" + id + "' is " + task.state(now).wireName() + "; only an active task can be ended", false);
            }
            try (PreparedStatement update = connection.prepareStatement("UPDATE tasks SET ended_at = ? WHERE id = ? AND ended_at IS NULL")) {
                update.setLong(1, now.toEpochMilli());
                update.setString(2, id);
                update.executeUpdate();
            }
            onEnd.ended(transaction, id, now);
            audit.append(transaction, AuditEvent.success(actor, "task.end", id, Map.of("holder", task.holder().toString())));
            return new Task(task.id(), task.owner(), task.holder(), task.purpose(), task.allowed(), task.createdAt(),
                    task.expiresAt(), Optional.of(now));
        });
    }

    @Override
    public Optional<Task> find(String id) {
        if (id == null || id.isBlank() || id.length() > 128) {
            return Optional.empty();
        }
        return datastore.read(connection -> find(connection, id));
    }

    @Override
    public List<Task> list(int limit) {
        return datastore.read(connection -> {
            try (PreparedStatement query = connection.prepareStatement(
                    "SELECT * FROM tasks ORDER BY created_at DESC, id LIMIT ?")) {
                query.setInt(1, Math.max(1, Math.min(limit, 1000)));
                List<Task> tasks = new ArrayList<>();
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        tasks.add(row(rows));
                    }
                }
                return tasks;
            }
        });
    }

    private static Optional<Task> find(java.sql.Connection connection, String id) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT * FROM tasks WHERE id = ?")) {
            query.setString(1, id);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? Optional.of(row(rows)) : Optional.empty();
            }
        }
    }

    private static Task row(ResultSet rows) throws SQLException {
        long ended = rows.getLong("ended_at");
        Optional<Instant> endedAt = rows.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(ended));
        List<Task.Permission> allowed = Arrays.stream(rows.getString("allowed").split("\n")).map(Task.Permission::parse).toList();
        return new Task(rows.getString("id"), rows.getString("owner"), SpiffeId.parse(rows.getString("holder")),
                rows.getString("purpose"), allowed, Instant.ofEpochMilli(rows.getLong("created_at")),
                Instant.ofEpochMilli(rows.getLong("expires_at")), endedAt);
    }

    private static void text(String what, String value) {
        if (value == null || value.isBlank() || value.length() > MAX_TEXT || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("task " + what + " must be 1 to " + MAX_TEXT + " characters without control characters");
        }
    }

    private static String truncate(String text) {
        return text.length() <= AuditEvent.MAX_DETAIL_LENGTH ? text : text.substring(0, AuditEvent.MAX_DETAIL_LENGTH);
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
