package dev.sigil.server.registration;

import static dev.sigil.server.registration.Entries.OTHER_NODE;
import static dev.sigil.server.registration.Entries.draft;
import static dev.sigil.server.registration.Entries.id;
import static dev.sigil.server.registration.Entries.selectors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.AuditVerification;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.registration.EntryFilter.MatchMode;
import dev.sigil.server.registration.RegistrationException.Reason;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every datastore dialect must guarantee for registration entries: CRUD, revisions, audit. */
abstract class EntryStoreContract extends DatastoreContract {
    protected AuditTrail audit;
    protected EntryStore store;

    @BeforeEach
    void createStore() {
        audit = AuditTrail.create(datastore, clock);
        store = EntryStore.create(datastore, audit, clock);
    }

    @Test
    void createdEntryIsFoundWithEverythingItWasGiven() {
        EntryDraft draft = draft("/web", "unix:uid:1000", "unix:gid:1000")
                .withX509SvidTtl(Duration.ofMinutes(30))
                .withJwtSvidTtl(Duration.ofMinutes(5))
                .withDnsNames(List.of("web.example.org", "*.web.example.org"))
                .withExpiresAt(Optional.of(Instant.parse("2027-01-01T00:00:00Z")))
                .withAdmin(true)
                .withHint("web tier")
                .withFederatesWith(List.of(new TrustDomain("partner.example")));

        RegistrationEntry created = store.create(draft, "alice");

        assertThat(created.draft()).isEqualTo(draft);
        assertThat(created.revision()).isEqualTo(1);
        assertThat(created.createdAt()).isEqualTo(clock.instant()).isEqualTo(created.updatedAt());
        assertThat(store.find(created.id())).contains(created);
        assertThat(store.currentRevision()).isEqualTo(1);
    }

    @Test
    void entryIdsAreUniqueAndRevisionsIncrease() {
        RegistrationEntry first = store.create(draft("/a", "unix:uid:1"), "alice");
        RegistrationEntry second = store.create(draft("/b", "unix:uid:1"), "alice");

        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(second.revision()).isEqualTo(first.revision() + 1);
    }

    @Test
    void duplicateEntryIsRejectedAndNothingChanges() {
        RegistrationEntry original = store.create(draft("/web", "unix:uid:1000", "unix:gid:1000"), "alice");

        assertRejected(() -> store.create(draft("/web", "unix:gid:1000", "unix:uid:1000"), "bob"), Reason.ALREADY_EXISTS)
                .hasMessageContaining(original.id())
                .hasMessageContaining("spiffe://example.org/web");

        assertThat(store.currentRevision()).isEqualTo(1);
        assertThat(audit.query(AuditQuery.all())).hasSize(1);
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isEqualTo(1);
    }

    @Test
    void sameSpiffeIdUnderAnotherParentOrWithOtherSelectorsIsNoDuplicate() {
        store.create(draft("/web", "unix:uid:1000"), "alice");

        store.create(draft("/web", "unix:uid:1001"), "alice");
        store.create(draft("/web", "unix:uid:1000").withParentId(OTHER_NODE), "alice");

        assertThat(store.list(EntryFilter.all().withSpiffeId(id("/web")), PageRequest.first(10)).items()).hasSize(3);
    }

    @Test
    void updateReplacesTheDraftKeepsCreationTimeAndTakesTheNextRevision() {
        RegistrationEntry created = store.create(draft("/web", "unix:uid:1000"), "alice");
        store.create(draft("/other", "unix:uid:1"), "alice");
        clock.advance(Duration.ofMinutes(5));

        RegistrationEntry updated = store.update(created.id(), created.revision(),
                created.draft().withSelectors(selectors("unix:uid:2000")).withOwner("team-web"), "bob");

        assertThat(updated.revision()).isEqualTo(3);
        assertThat(updated.createdAt()).isEqualTo(created.createdAt());
        assertThat(updated.updatedAt()).isEqualTo(clock.instant());
        assertThat(store.find(created.id())).contains(updated);
        assertThat(store.list(EntryFilter.all().withSelectors(MatchMode.EXACT, selectors("unix:uid:1000")), PageRequest.first(10))
                .items()).isEmpty();
        assertThat(store.list(EntryFilter.all().withSelectors(MatchMode.SUPERSET, selectors("unix:uid:2000")), PageRequest.first(10))
                .items()).containsExactly(updated);
    }

    @Test
    void staleRevisionUpdateIsRejected() {
        RegistrationEntry created = store.create(draft("/web", "unix:uid:1000"), "alice");
        RegistrationEntry updated = store.update(created.id(), created.revision(), created.draft().withHint("first"), "alice");

        assertRejected(() -> store.update(created.id(), created.revision(), created.draft().withHint("second"), "bob"),
                Reason.REVISION_CONFLICT)
                .hasMessageContaining("revision " + updated.revision())
                .hasMessageContaining("not " + created.revision());

        assertThat(store.find(created.id())).contains(updated);
    }

    @Test
    void twoServersUpdatingTheSameRevisionCannotBothWin() {
        Datastore second = openDatastore();
        EntryStore otherServer = EntryStore.create(second, AuditTrail.create(second, clock), clock);
        RegistrationEntry created = store.create(draft("/web", "unix:uid:1000"), "alice");
        RegistrationEntry readByOther = otherServer.find(created.id()).orElseThrow();

        store.update(created.id(), created.revision(), created.draft().withHint("from server one"), "alice");

        assertRejected(() -> otherServer.update(readByOther.id(), readByOther.revision(),
                readByOther.draft().withHint("from server two"), "bob"), Reason.REVISION_CONFLICT);
        assertThat(otherServer.find(created.id()).orElseThrow().hint()).isEqualTo("from server one");
    }

    @Test
    void updateOntoAnotherEntrysIdentityIsRejected() {
        store.create(draft("/web", "unix:uid:1000"), "alice");
        RegistrationEntry other = store.create(draft("/web", "unix:uid:2000"), "alice");

        assertRejected(() -> store.update(other.id(), other.revision(), draft("/web", "unix:uid:1000"), "bob"),
                Reason.ALREADY_EXISTS);

        assertThat(store.find(other.id())).contains(other);
        assertThat(store.currentRevision()).isEqualTo(2);
    }

    @Test
    void updateOrDeleteOfAMissingEntryIsNotFound() {
        assertRejected(() -> store.update("no-such-id", 1, draft("/web", "unix:uid:1"), "alice"), Reason.NOT_FOUND)
                .hasMessageContaining("'no-such-id'");
        assertRejected(() -> store.delete("no-such-id", "alice"), Reason.NOT_FOUND);
        assertThat(store.currentRevision()).isZero();
    }

    @Test
    void deletedEntryIsGoneWithItsSelectors() {
        RegistrationEntry created = store.create(draft("/web", "unix:uid:1000"), "alice");

        RegistrationEntry deleted = store.delete(created.id(), "bob");

        assertThat(deleted).isEqualTo(created);
        assertThat(store.find(created.id())).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM registration_selectors")).isZero();
        assertThat(store.currentRevision()).isEqualTo(2);
    }

    @Test
    void everyChangeIsAuditedWithItsActor() {
        RegistrationEntry created = store.create(draft("/web", "unix:uid:1000"), "alice");
        store.update(created.id(), created.revision(), created.draft().withHint("x"), "bob");
        store.delete(created.id(), "carol");

        List<AuditRecord> records = audit.query(AuditQuery.all().bySubject("entry:" + created.id()));

        assertThat(records).extracting(AuditRecord::action).containsExactly("entry.create", "entry.update", "entry.delete");
        assertThat(records).extracting(AuditRecord::actor).containsExactly("alice", "bob", "carol");
        assertThat(records.getFirst().details()).contains("spiffe://example.org/web").contains("team-payments");
        assertThat(audit.verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    @Test
    void invalidActorChangesNothing() {
        assertRejected(() -> store.create(draft("/web", "unix:uid:1000"), " "), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("actor");

        assertThat(store.currentRevision()).isZero();
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isZero();
    }

    @Test
    void changeWhoseAuditRecordCannotBeWrittenIsNotStored() {
        EntryStore failingAudit = EntryStore.create(datastore, new RefusingAuditTrail(audit), clock);

        assertThatThrownBy(() -> failingAudit.create(draft("/web", "unix:uid:1000"), "alice"))
                .hasMessageContaining("audit unavailable");

        assertThat(store.currentRevision()).isZero();
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isZero();
        assertThat(count("SELECT COUNT(*) FROM registration_selectors")).isZero();
    }

    @Test
    void changesSinceReportsUpdatesAndDeletionsInRevisionOrder() {
        RegistrationEntry a = store.create(draft("/a", "unix:uid:1"), "alice");
        RegistrationEntry b = store.create(draft("/b", "unix:uid:1"), "alice");
        RegistrationEntry c = store.create(draft("/c", "unix:uid:1"), "alice");
        long seen = store.currentRevision();
        RegistrationEntry a2 = store.update(a.id(), a.revision(), a.draft().withHint("changed"), "alice");
        store.delete(b.id(), "alice");

        EntryChanges changes = store.changesSince(seen, 100);

        assertThat(changes.changed()).containsExactly(a2);
        assertThat(changes.deletedIds()).containsExactly(b.id());
        assertThat(changes.throughRevision()).isEqualTo(store.currentRevision());
        assertThat(changes.more()).isFalse();
        assertThat(store.changesSince(0, 100).changed()).containsExactly(c, a2);
        assertThat(store.changesSince(store.currentRevision(), 100).changed()).isEmpty();
    }

    @Test
    void changesSinceInSmallStepsMissesNothing() {
        for (int i = 0; i < 7; i++) {
            store.create(draft("/w" + i, "unix:uid:" + i), "alice");
        }
        RegistrationEntry third = store.list(EntryFilter.all().withSpiffeId(id("/w3")), PageRequest.first(1)).items().getFirst();
        store.delete(third.id(), "alice");

        long revision = 0;
        int changed = 0;
        int deleted = 0;
        int calls = 0;
        EntryChanges step;
        do {
            step = store.changesSince(revision, 2);
            assertThat(step.changed().size() + step.deletedIds().size()).isLessThanOrEqualTo(2);
            changed += step.changed().size();
            deleted += step.deletedIds().size();
            revision = step.throughRevision();
            calls++;
        } while (step.more());

        assertThat(changed).isEqualTo(6);
        assertThat(deleted).isEqualTo(1);
        assertThat(revision).isEqualTo(8);
        assertThat(calls).isEqualTo(4);
    }

    @Test
    void malformedChangeQueriesAreRejected() {
        assertRejected(() -> store.changesSince(-1, 10), Reason.INVALID_ARGUMENT);
        assertRejected(() -> store.changesSince(0, 0), Reason.INVALID_ARGUMENT);
    }

    static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(ThrowingCallable call, Reason reason) {
        return assertThatThrownBy(call)
                .isInstanceOfSatisfying(RegistrationException.class, e -> assertThat(e.reason()).isEqualTo(reason));
    }

    /** An audit trail whose every append fails, as when the audit table is unwritable. */
    private record RefusingAuditTrail(AuditTrail real) implements AuditTrail {
        @Override
        public AuditRecord append(dev.sigil.server.datastore.Transaction transaction, AuditEvent event) throws SQLException {
            throw new SQLException("audit unavailable");
        }

        @Override
        public List<AuditRecord> appendAll(dev.sigil.server.datastore.Transaction transaction, List<AuditEvent> events) throws SQLException {
            throw new SQLException("audit unavailable");
        }

        @Override
        public AuditRecord append(AuditEvent event) {
            throw new IllegalStateException("audit unavailable");
        }

        @Override
        public AuditRecord append(AuditEvent event, Alongside alongside) {
            throw new IllegalStateException("audit unavailable");
        }

        @Override
        public List<AuditRecord> appendAll(List<AuditEvent> events) {
            throw new IllegalStateException("audit unavailable");
        }

        @Override
        public AuditVerification verify() {
            return real.verify();
        }

        @Override
        public List<AuditRecord> query(AuditQuery query) {
            return real.query(query);
        }
    }
}
