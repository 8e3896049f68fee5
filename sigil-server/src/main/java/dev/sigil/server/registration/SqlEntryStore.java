package dev.sigil.server.registration;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditException;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link EntryStore} on the server's SQL datastore. Every write first advances the {@link RevisionCounter}. */
final class SqlEntryStore implements EntryStore {
    static final int BATCH_CHUNK = 5000;
    static final int MAX_CHANGES = 10_000;

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;

    SqlEntryStore(Datastore datastore, AuditTrail audit, Clock clock) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public RegistrationEntry create(EntryDraft draft, String actor) {
        requireDraft(draft);
        requireActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            long revision = RevisionCounter.advance(connection, 1);
            String existing = EntryRows.existingIdentities(connection, List.of(EntryRows.identityHash(draft)))
                    .get(EntryRows.identityHash(draft));
            if (existing != null) {
                throw duplicate(draft, existing);
            }
            Instant now = now();
            RegistrationEntry entry = new RegistrationEntry(EntryIds.next(now), draft, revision, now, now);
            insertOrReportDuplicate(connection, List.of(entry));
            audit.append(transaction, event(actor, "entry.create", entry));
            return entry;
        });
    }

    @Override
    public List<BatchCreateResult> createBatch(List<EntryDraft> drafts, String actor) {
        Objects.requireNonNull(drafts, "drafts");
        drafts.forEach(SqlEntryStore::requireDraft);
        requireActor(actor);
        BatchCreateResult[] results = new BatchCreateResult[drafts.size()];
        Map<String, Integer> seen = new HashMap<>();
        for (int start = 0; start < drafts.size(); start += BATCH_CHUNK) {
            int from = start;
            int to = Math.min(drafts.size(), start + BATCH_CHUNK);
            // Duplicates inside the batch fail against the first draft with the same identity.
            List<Integer> candidates = new ArrayList<>();
            for (int i = from; i < to; i++) {
                Integer first = seen.putIfAbsent(EntryRows.identityHash(drafts.get(i)), i);
                if (first == null) {
                    candidates.add(i);
                } else {
                    results[i] = new BatchCreateResult.Failed(new RegistrationException(RegistrationException.Reason.ALREADY_EXISTS,
                            "draft " + i + " of the batch duplicates draft " + first + ": " + describe(drafts.get(i))));
                }
            }
            BatchCreateResult[] chunk = datastore.transaction(transaction -> createChunk(transaction, drafts, from, candidates, actor));
            for (int i = from; i < to; i++) {
                if (chunk[i - from] != null) {
                    results[i] = chunk[i - from];
                }
            }
        }
        return Arrays.asList(results);
    }

    /** Stores the candidates that are not yet stored; results are indexed relative to the chunk's first draft. */
    private BatchCreateResult[] createChunk(Transaction transaction, List<EntryDraft> drafts, int base, List<Integer> candidates,
            String actor) throws SQLException {
        Connection connection = transaction.jdbc();
        BatchCreateResult[] results = new BatchCreateResult[BATCH_CHUNK];
        RevisionCounter.lock(connection);
        Map<String, String> existing = EntryRows.existingIdentities(connection,
                candidates.stream().map(i -> EntryRows.identityHash(drafts.get(i))).toList());
        List<Integer> fresh = new ArrayList<>();
        for (int i : candidates) {
            String id = existing.get(EntryRows.identityHash(drafts.get(i)));
            if (id == null) {
                fresh.add(i);
            } else {
                results[i - base] = new BatchCreateResult.Failed(duplicate(drafts.get(i), id));
            }
        }
        if (fresh.isEmpty()) {
            return results;
        }
        long revision = RevisionCounter.advance(connection, fresh.size()) - fresh.size();
        Instant now = now();
        List<RegistrationEntry> entries = new ArrayList<>(fresh.size());
        List<AuditEvent> events = new ArrayList<>(fresh.size());
        for (int i : fresh) {
            RegistrationEntry entry = new RegistrationEntry(EntryIds.next(now), drafts.get(i), ++revision, now, now);
            entries.add(entry);
            events.add(event(actor, "entry.create", entry));
            results[i - base] = new BatchCreateResult.Created(entry);
        }
        insertOrReportDuplicate(connection, entries);
        audit.appendAll(transaction, events);
        return results;
    }

    /**
     * The counter lock makes the duplicate checks before an insert race-free; the unique index is the
     * backstop, and its violation still reads as ALREADY_EXISTS rather than a database failure.
     */
    private void insertOrReportDuplicate(Connection connection, List<RegistrationEntry> entries) throws SQLException {
        try {
            EntryRows.insert(connection, entries);
        } catch (SQLException e) {
            if (datastore.dialect().isUniqueViolation(e)) {
                throw duplicate(entries.getFirst().draft(), null);
            }
            throw e;
        }
    }

    @Override
    public RegistrationEntry update(String id, long expectedRevision, EntryDraft draft, String actor) {
        requireId(id);
        requireDraft(draft);
        requireActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            long revision = RevisionCounter.advance(connection, 1);
            RegistrationEntry current = EntryQueries.find(connection, id).orElseThrow(() -> RegistrationException.notFound(id));
            if (current.revision() != expectedRevision) {
                throw conflict(id, current.revision(), expectedRevision);
            }
            String other = EntryRows.existingIdentities(connection, List.of(EntryRows.identityHash(draft)))
                    .get(EntryRows.identityHash(draft));
            if (other != null && !other.equals(id)) {
                throw duplicate(draft, other);
            }
            RegistrationEntry updated = new RegistrationEntry(id, draft, revision, current.createdAt(), now());
            // The revision guard in the WHERE clause is what keeps concurrent writers honest; the
            // check above only turns the common case into a clear message.
            boolean updatedRow;
            try {
                updatedRow = EntryRows.update(connection, updated, expectedRevision);
            } catch (SQLException e) {
                if (datastore.dialect().isUniqueViolation(e)) {
                    throw duplicate(draft, null);
                }
                throw e;
            }
            if (!updatedRow) {
                throw conflict(id, -1, expectedRevision);
            }
            audit.append(transaction, event(actor, "entry.update", updated));
            return updated;
        });
    }

    @Override
    public RegistrationEntry delete(String id, String actor) {
        requireId(id);
        requireActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            long revision = RevisionCounter.advance(connection, 1);
            RegistrationEntry current = EntryQueries.find(connection, id).orElseThrow(() -> RegistrationException.notFound(id));
            EntryRows.deleteSelectors(connection, id);
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM registration_entries WHERE id = ? AND revision = ?")) {
                delete.setString(1, id);
                delete.setLong(2, current.revision());
                if (delete.executeUpdate() != 1) {
                    throw conflict(id, -1, current.revision());
                }
            }
            try (PreparedStatement tombstone = connection.prepareStatement(
                    "INSERT INTO registration_tombstones (entry_id, revision) VALUES (?, ?)")) {
                tombstone.setString(1, id);
                tombstone.setLong(2, revision);
                tombstone.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, "entry.delete", subject(id), Map.of(
                            "spiffe_id", current.spiffeId().toString(),
                            "parent_id", current.parentId().toString(),
                            "revision", Long.toString(revision))));
            return current;
        });
    }

    @Override
    public Optional<RegistrationEntry> find(String id) {
        requireId(id);
        return datastore.read(connection -> EntryQueries.find(connection, id));
    }

    @Override
    public Page<RegistrationEntry> list(EntryFilter filter, PageRequest page) {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(page, "page");
        if (page.token().isPresent()) {
            EntryQueries.decodeToken(page.token().get());
        }
        return datastore.read(connection -> EntryQueries.list(connection, filter, page));
    }

    @Override
    public EntryChanges changesSince(long revision, int limit) {
        if (revision < 0) {
            throw RegistrationException.invalid("revision is " + revision + "; it must be 0 or more");
        }
        if (limit < 1 || limit > MAX_CHANGES) {
            throw RegistrationException.invalid("change limit is " + limit + "; it must be between 1 and " + MAX_CHANGES);
        }
        return datastore.read(connection -> EntryQueries.changesSince(connection, revision, limit));
    }

    @Override
    public long currentRevision() {
        return datastore.read(RevisionCounter::current);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static AuditEvent event(String actor, String action, RegistrationEntry entry) {
        return AuditEvent.success(actor, action, subject(entry.id()), Map.of(
                "spiffe_id", entry.spiffeId().toString(),
                "parent_id", entry.parentId().toString(),
                "owner", entry.owner(),
                "revision", Long.toString(entry.revision())));
    }

    private static String subject(String id) {
        return "entry:" + id;
    }

    private static RegistrationException duplicate(EntryDraft draft, String existingId) {
        return new RegistrationException(RegistrationException.Reason.ALREADY_EXISTS,
                (existingId == null ? "another entry" : "entry " + existingId) + " already has " + describe(draft)
                        + "; update it instead of creating another");
    }

    private static RegistrationException conflict(String id, long stored, long expected) {
        return new RegistrationException(RegistrationException.Reason.REVISION_CONFLICT, "entry '" + id + "' is at revision "
                + (stored < 0 ? "another" : String.valueOf(stored)) + ", not " + expected
                + ": it changed since it was read; read it again and reapply the change");
    }

    private static String describe(EntryDraft draft) {
        return "spiffe id '" + draft.spiffeId() + "', parent '" + draft.parentId() + "' and selectors "
                + draft.selectors();
    }

    private static void requireDraft(EntryDraft draft) {
        if (draft == null) {
            throw RegistrationException.invalid("entry draft is missing");
        }
    }

    private static void requireId(String id) {
        if (id == null || id.isBlank()) {
            throw RegistrationException.invalid("entry id is blank; give the id the server assigned");
        }
    }

    static void requireActor(String actor) {
        try {
            AuditEvent.checkActor(actor);
        } catch (AuditException e) {
            throw RegistrationException.invalid(e.getMessage());
        }
    }
}
