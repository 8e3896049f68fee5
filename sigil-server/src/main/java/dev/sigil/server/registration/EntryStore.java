package dev.sigil.server.registration;

import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * The registration entries of one trust domain, in the server's datastore.
 *
 * <p>Guarantees, also when several servers share one PostgreSQL database:
 * <ul>
 *   <li>Every change is one transaction together with its audit record ({@code entry.create},
 *       {@code entry.update}, {@code entry.delete}), naming {@code actor}; a change whose record
 *       cannot be written does not happen.
 *   <li>No two entries have the same SPIFFE ID, parent ID and selector set (ALREADY_EXISTS).
 *   <li>Updates are optimistic: an update naming a revision other than the stored one fails with
 *       REVISION_CONFLICT, so concurrent editors cannot silently overwrite each other.
 *   <li>Each change takes the next value of one global counter as its revision, and changes commit
 *       in revision order, so {@link #changesSince} never skips a change.
 *   <li>A failed call ({@link RegistrationException}) changed nothing.
 * </ul>
 */
public interface EntryStore {

    static EntryStore create(Datastore datastore, AuditTrail audit, Clock clock) {
        return new SqlEntryStore(datastore, audit, clock);
    }

    RegistrationEntry create(EntryDraft draft, String actor);

    /**
     * Creates many entries, one result per draft in the same order. Drafts that duplicate a stored
     * entry or an earlier draft fail alone; the others are stored. Work is committed in chunks, so if
     * the database itself fails midway ({@link dev.sigil.server.datastore.DatastoreException}) the
     * chunks before it stay stored, and repeating the call reports them as ALREADY_EXISTS.
     */
    List<BatchCreateResult> createBatch(List<EntryDraft> drafts, String actor);

    /** Replaces the entry's draft if it is still at {@code expectedRevision}; returns it at its new revision. */
    RegistrationEntry update(String id, long expectedRevision, EntryDraft draft, String actor);

    /** Deletes the entry, leaving a tombstone for {@link #changesSince}; returns it as it was. */
    RegistrationEntry delete(String id, String actor);

    Optional<RegistrationEntry> find(String id);

    /** Entries matching {@code filter}, ordered by id, one page at a time. */
    Page<RegistrationEntry> list(EntryFilter filter, PageRequest page);

    /** Changes with a revision above {@code revision}, oldest first, at most {@code limit} (1 to 10,000) of them. */
    EntryChanges changesSince(long revision, int limit);

    /** The revision of the latest change; 0 before the first. */
    long currentRevision();
}
