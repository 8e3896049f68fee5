package dev.sigil.server.audit;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import dev.sigil.server.datastore.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The audit trail in the server's SQL datastore (tables audit_records and audit_head, migration V2). */
final class SqlAuditTrail implements AuditTrail {
    private static final String COLUMNS = "seq, recorded_at, actor, action, subject, outcome, details, prev_hash, hash";
    private static final int VERIFY_PAGE = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(SqlAuditTrail.class);

    private final Datastore datastore;
    private final Clock clock;
    private final Optional<AuditCheckpoints> checkpoints;
    private final GroupCommit groupCommit = new GroupCommit(this::commitBatch);
    private final AtomicLong appendedSinceCheckpointCheck = new AtomicLong();

    SqlAuditTrail(Datastore datastore, Clock clock, Optional<AuditCheckpoints> checkpoints) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
    }

    @Override
    public AuditRecord append(Transaction transaction, AuditEvent event) throws SQLException {
        return appendAll(transaction, List.of(event)).getFirst();
    }

    @Override
    public List<AuditRecord> appendAll(Transaction transaction, List<AuditEvent> events) throws SQLException {
        Connection connection = transaction.jdbc();
        if (connection.getAutoCommit()) {
            throw new IllegalStateException("audit records must be appended inside a transaction; the connection is in auto-commit mode");
        }
        if (events.isEmpty()) {
            return List.of();
        }
        Head head = lockHead(connection, datastore.dialect());
        long time = clock.instant().toEpochMilli();
        List<AuditRecord> records = new ArrayList<>(events.size());
        long seq = head.lastSeq();
        String prev = head.lastHash();
        for (AuditEvent event : events) {
            seq++;
            String details = AuditChain.detailsJson(event.details());
            String hash = AuditChain.hash(seq, time, event.actor(), event.action(), event.subject(),
                    event.outcome().wireName(), details, prev);
            records.add(new AuditRecord(seq, Instant.ofEpochMilli(time), event.actor(), event.action(), event.subject(),
                    event.outcome(), details, prev, hash));
            prev = hash;
        }
        insert(connection, records);
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1 AND last_seq = ?")) {
            update.setLong(1, seq);
            update.setString(2, prev);
            update.setLong(3, head.lastSeq());
            if (update.executeUpdate() != 1) {
                throw new IllegalStateException("audit head moved while it was locked; the chain cannot be extended");
            }
        }
        return List.copyOf(records);
    }

    @Override
    public AuditRecord append(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        return groupCommit.append(event);
    }

    @Override
    public AuditRecord append(AuditEvent event, Alongside alongside) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(alongside, "alongside");
        return groupCommit.append(new GroupCommit.Write(event, Optional.of(alongside)));
    }

    /** One group-commit batch: one transaction, then a checkpoint if {@code audit.checkpoint_every} records accumulated. */
    private List<AuditRecord> commitBatch(List<GroupCommit.Write> writes) {
        List<AuditRecord> records = datastore.transaction(transaction -> {
            for (GroupCommit.Write write : writes) {
                if (write.alongside().isPresent()) {
                    write.alongside().get().write(transaction);
                }
            }
            return appendAll(transaction, writes.stream().map(GroupCommit.Write::event).toList());
        });
        checkpoints.ifPresent(c -> {
            if (appendedSinceCheckpointCheck.addAndGet(records.size()) >= c.every()) {
                appendedSinceCheckpointCheck.set(0);
                try {
                    c.checkpointIfDue();
                } catch (RuntimeException e) {
                    // The records are committed; the maintenance loop retries the checkpoint.
                    LOG.warn("audit checkpoint failed after seq {}: {}", records.getLast().seq(), e.getMessage(), e);
                }
            }
        });
        return records;
    }

    @Override
    public List<AuditRecord> appendAll(List<AuditEvent> events) {
        return events.isEmpty() ? List.of() : datastore.transaction(transaction -> appendAll(transaction, events));
    }

    @Override
    public AuditVerification verify() {
        return datastore.read(connection -> {
            AuditVerification chain = verifyChain(connection);
            if (checkpoints.isEmpty() || !(chain instanceof AuditVerification.Intact intact)) {
                return chain;
            }
            Optional<AuditVerification.Broken> broken = checkpoints.get().check(connection, intact.count(),
                    seq -> storedHash(connection, seq));
            return broken.<AuditVerification>map(b -> b).orElse(chain);
        });
    }

    private static Optional<String> storedHash(Connection connection, long seq) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT hash FROM audit_records WHERE seq = ?")) {
            select.setLong(1, seq);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(row.getString(1)) : Optional.empty();
            }
        }
    }

    private AuditVerification verifyChain(Connection connection) throws SQLException {
        {
            Head head = readHead(connection, "");
            long expected = 1;
            String prevHash = AuditChain.GENESIS;
            StoredRow previous = null;
            while (expected <= head.lastSeq()) {
                List<StoredRow> page = page(connection, expected - 1, head.lastSeq());
                if (page.isEmpty()) {
                    break;
                }
                for (StoredRow record : page) {
                    if (record.seq() != expected) {
                        return new AuditVerification.Broken(expected, "record " + expected + " is missing: the record after "
                                + (expected - 1) + " is " + record.seq());
                    }
                    boolean selfConsistent = record.computedHash().equals(record.hash());
                    if (!record.prevHash().equals(prevHash)) {
                        return selfConsistent && previous != null
                                ? new AuditVerification.Broken(previous.seq(), "record " + previous.seq() + " was rewritten: its hash "
                                        + "no longer matches the prev_hash of record " + record.seq())
                                : new AuditVerification.Broken(record.seq(), "record " + record.seq()
                                        + " does not link to its predecessor: prev_hash differs from the hash of record " + (record.seq() - 1));
                    }
                    if (!selfConsistent) {
                        return new AuditVerification.Broken(record.seq(), "record " + record.seq()
                                + " was modified or moved: its stored hash does not match its contents");
                    }
                    prevHash = record.hash();
                    previous = record;
                    expected++;
                }
            }
            if (expected <= head.lastSeq()) {
                return new AuditVerification.Broken(expected, "record " + expected + " is missing: the head says the chain ends at "
                        + head.lastSeq() + " but the records end at " + (expected - 1));
            }
            if (!prevHash.equals(head.lastHash())) {
                return new AuditVerification.Broken(Math.max(1, head.lastSeq()), "the head's hash does not match record "
                        + head.lastSeq() + ": the last record or the head was modified");
            }
            return new AuditVerification.Intact(head.lastSeq(), head.lastHash());
        }
    }

    @Override
    public List<AuditRecord> query(AuditQuery query) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM audit_records WHERE seq > ?");
        List<Object> parameters = new ArrayList<>();
        parameters.add(query.afterSeq());
        query.actor().ifPresent(actor -> {
            sql.append(" AND actor = ?");
            parameters.add(actor);
        });
        query.subject().ifPresent(subject -> {
            sql.append(" AND subject = ?");
            parameters.add(subject);
        });
        query.workload().ifPresent(workload -> {
            sql.append(" AND (actor = ? OR subject = ?)");
            parameters.add(workload);
            parameters.add(workload);
        });
        // Detail keys are validated by AuditQuery ([a-z][a-z0-9_]*), so embedding them is safe.
        query.details().forEach((key, value) -> {
            sql.append(datastore.dialect() == Dialect.POSTGRESQL
                    ? " AND (CAST(details AS jsonb) ->> '" + key + "') = ?"
                    : " AND json_extract(details, '$." + key + "') = ?");
            parameters.add(value);
        });
        query.actionPrefix().ifPresent(prefix -> {
            // substr, not LIKE: exact and case-sensitive on both databases, no escaping of '_' or '%'.
            sql.append(" AND substr(action, 1, ?) = ?");
            parameters.add(prefix.length());
            parameters.add(prefix);
        });
        query.from().ifPresent(from -> {
            sql.append(" AND recorded_at >= ?");
            parameters.add(from.toEpochMilli());
        });
        query.to().ifPresent(to -> {
            sql.append(" AND recorded_at < ?");
            parameters.add(to.toEpochMilli());
        });
        sql.append(" ORDER BY seq LIMIT ?");
        parameters.add(query.limit());
        return datastore.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
                for (int i = 0; i < parameters.size(); i++) {
                    select.setObject(i + 1, parameters.get(i));
                }
                return readRows(select).stream().map(StoredRow::toRecord).toList();
            }
        });
    }

    record Head(long lastSeq, String lastHash) {}

    /** Reads the head and, on PostgreSQL, locks it until the transaction ends; SQLite transactions are already serial. */
    static Head lockHead(Connection connection, Dialect dialect) throws SQLException {
        return readHead(connection, dialect == Dialect.POSTGRESQL ? " FOR UPDATE" : "");
    }

    private static Head readHead(Connection connection, String lock) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT last_seq, last_hash FROM audit_head WHERE id = 1" + lock);
                ResultSet row = select.executeQuery()) {
            if (!row.next()) {
                throw new IllegalStateException("the audit_head row is missing; the audit schema is damaged");
            }
            return new Head(row.getLong(1), row.getString(2));
        }
    }

    private static void insert(Connection connection, List<AuditRecord> records) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO audit_records (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (AuditRecord r : records) {
                insert.setLong(1, r.seq());
                insert.setLong(2, r.time().toEpochMilli());
                insert.setString(3, r.actor());
                insert.setString(4, r.action());
                insert.setString(5, r.subject());
                insert.setString(6, r.outcome().wireName());
                insert.setString(7, r.details());
                insert.setString(8, r.prevHash());
                insert.setString(9, r.hash());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static List<StoredRow> page(Connection connection, long afterSeq, long maxSeq) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM audit_records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT " + VERIFY_PAGE)) {
            select.setLong(1, afterSeq);
            select.setLong(2, maxSeq);
            return readRows(select);
        }
    }

    private static List<StoredRow> readRows(PreparedStatement select) throws SQLException {
        List<StoredRow> rows = new ArrayList<>();
        try (ResultSet row = select.executeQuery()) {
            while (row.next()) {
                rows.add(new StoredRow(row.getLong(1), row.getLong(2), row.getString(3), row.getString(4), row.getString(5),
                        row.getString(6), row.getString(7), row.getString(8), row.getString(9)));
            }
        }
        return rows;
    }

    /** A row exactly as stored; verification hashes these strings, never a re-encoding of them. */
    private record StoredRow(long seq, long time, String actor, String action, String subject, String outcome, String details,
            String prevHash, String hash) {
        String computedHash() {
            return AuditChain.hash(seq, time, actor, action, subject, outcome, details, prevHash);
        }

        /** A tampered, unknown outcome reads as FAILURE; {@link #verify()} reports the record as modified. */
        AuditRecord toRecord() {
            AuditOutcome parsed;
            try {
                parsed = AuditOutcome.fromWireName(outcome);
            } catch (AuditException e) {
                parsed = AuditOutcome.FAILURE;
            }
            return new AuditRecord(seq, Instant.ofEpochMilli(time), actor, action, subject, parsed, details, prevHash, hash);
        }
    }
}
