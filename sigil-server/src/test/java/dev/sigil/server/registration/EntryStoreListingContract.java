package dev.sigil.server.registration;

import static dev.sigil.server.registration.Entries.NODE;
import static dev.sigil.server.registration.Entries.OTHER_NODE;
import static dev.sigil.server.registration.Entries.draft;
import static dev.sigil.server.registration.Entries.id;
import static dev.sigil.server.registration.Entries.selectors;
import static dev.sigil.server.registration.EntryStoreContract.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.AuditVerification;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.registration.EntryFilter.MatchMode;
import dev.sigil.server.registration.RegistrationException.Reason;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every datastore dialect must guarantee for finding entries, batches, and servers racing each other. */
abstract class EntryStoreListingContract extends DatastoreContract {
    private AuditTrail audit;
    private EntryStore store;

    @BeforeEach
    void createStore() {
        audit = AuditTrail.create(datastore, clock);
        store = EntryStore.create(datastore, audit, clock);
    }

    @Test
    void selectorFiltersMatchExactlySubsetsOrSupersets() {
        RegistrationEntry uid = store.create(draft("/a", "unix:uid:1000"), "alice");
        RegistrationEntry uidGid = store.create(draft("/b", "unix:uid:1000", "unix:gid:1000"), "alice");
        RegistrationEntry uidGidImage = store.create(draft("/c", "unix:uid:1000", "unix:gid:1000", "docker:image:web"), "alice");
        store.create(draft("/d", "unix:uid:2000"), "alice");
        List<Selector> workload = selectors("unix:gid:1000", "unix:uid:1000");

        assertThat(list(EntryFilter.all().withSelectors(MatchMode.EXACT, workload))).containsExactlyInAnyOrder(uidGid);
        assertThat(list(EntryFilter.all().withSelectors(MatchMode.SUBSET, workload))).containsExactlyInAnyOrder(uid, uidGid);
        assertThat(list(EntryFilter.all().withSelectors(MatchMode.SUPERSET, workload))).containsExactlyInAnyOrder(uidGid, uidGidImage);
        assertThat(list(EntryFilter.all().withSelectors(MatchMode.SUBSET, selectors("unix:gid:1000")))).isEmpty();
    }

    @Test
    void agentLookupCombinesParentAndSubsetOfWorkloadSelectors() {
        RegistrationEntry mine = store.create(draft("/web", "unix:uid:1000"), "alice");
        store.create(draft("/web", "unix:uid:1000").withParentId(OTHER_NODE), "alice");
        store.create(draft("/db", "unix:uid:1000", "unix:user:postgres"), "alice");

        List<RegistrationEntry> found = list(EntryFilter.all().withParentId(NODE)
                .withSelectors(MatchMode.SUBSET, selectors("unix:uid:1000", "unix:gid:50", "unix:user:www")));

        assertThat(found).containsExactly(mine);
    }

    @Test
    void entriesCanBeFilteredBySpiffeIdParentAndOwner() {
        RegistrationEntry web = store.create(draft("/web", "unix:uid:1"), "alice");
        RegistrationEntry db = store.create(draft("/db", "unix:uid:2").withOwner("team-data"), "alice");
        RegistrationEntry elsewhere = store.create(draft("/db", "unix:uid:2").withParentId(OTHER_NODE), "alice");

        assertThat(list(EntryFilter.all().withSpiffeId(id("/web")))).containsExactly(web);
        assertThat(list(EntryFilter.all().withParentId(OTHER_NODE))).containsExactly(elsewhere);
        assertThat(list(EntryFilter.all().withOwner("team-data"))).containsExactly(db);
        assertThat(list(EntryFilter.all().withSpiffeId(id("/db")).withOwner("team-payments"))).containsExactly(elsewhere);
        assertThat(list(EntryFilter.all())).hasSize(3);
    }

    @Test
    void paginationVisitsEveryEntryExactlyOnce() {
        for (int i = 0; i < 25; i++) {
            store.create(draft("/w" + i, "unix:uid:" + i), "alice");
        }
        Set<String> seen = new HashSet<>();
        List<Integer> pageSizes = new ArrayList<>();
        PageRequest request = PageRequest.first(10);
        while (true) {
            Page<RegistrationEntry> page = store.list(EntryFilter.all(), request);
            pageSizes.add(page.items().size());
            page.items().forEach(entry -> assertThat(seen.add(entry.id())).isTrue());
            if (page.nextPageToken().isEmpty()) {
                break;
            }
            request = PageRequest.next(page.nextPageToken().get(), 10);
        }

        assertThat(pageSizes).containsExactly(10, 10, 5);
        assertThat(seen).hasSize(25);
    }

    @Test
    void selectorFilteredListingsPageThroughEveryMatchOnce() {
        for (int i = 0; i < 25; i++) {
            store.create(draft("/w" + i, "unix:uid:" + i, "k8s:sa:default"), "alice");
        }
        store.create(draft("/other", "unix:uid:99"), "alice");
        EntryFilter filter = EntryFilter.all().withSelectors(MatchMode.SUPERSET, selectors("k8s:sa:default"));

        Page<RegistrationEntry> first = store.list(filter, PageRequest.first(10));
        Page<RegistrationEntry> second = store.list(filter, PageRequest.next(first.nextPageToken().orElseThrow(), 10));
        Page<RegistrationEntry> third = store.list(filter, PageRequest.next(second.nextPageToken().orElseThrow(), 10));

        assertThat(List.of(first.items().size(), second.items().size(), third.items().size())).containsExactly(10, 10, 5);
        assertThat(third.nextPageToken()).isEmpty();
        Set<String> ids = new HashSet<>();
        for (Page<RegistrationEntry> page : List.of(first, second, third)) {
            page.items().forEach(entry -> assertThat(ids.add(entry.id())).isTrue());
        }
        assertThat(ids).hasSize(25);
    }

    @Test
    void malformedPageTokenOrSizeIsRejected() {
        assertRejected(() -> store.list(EntryFilter.all(), PageRequest.next("not-a-token", 10)), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("'not-a-token'");
        assertRejected(() -> PageRequest.first(0), Reason.INVALID_ARGUMENT);
        assertRejected(() -> PageRequest.first(PageRequest.MAX_SIZE + 1), Reason.INVALID_ARGUMENT);
    }

    @Test
    void batchCreateStoresThousandsOfEntriesAndReportsDuplicatesOneByOne() {
        RegistrationEntry existing = store.create(draft("/w5", "unix:uid:5"), "alice");
        List<EntryDraft> drafts = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            drafts.add(draft("/w" + i, "unix:uid:" + i, "k8s:ns:team" + (i % 7)).withParentId(i == 5 ? NODE : OTHER_NODE));
        }
        drafts.set(5, draft("/w5", "unix:uid:5"));
        drafts.add(draft("/w9", "unix:uid:9", "k8s:ns:team2").withParentId(OTHER_NODE));

        List<BatchCreateResult> results = store.createBatch(drafts, "importer");

        assertThat(results).hasSize(3001);
        assertThat(results.get(5)).isInstanceOfSatisfying(BatchCreateResult.Failed.class, failed -> {
            assertThat(failed.error().reason()).isEqualTo(Reason.ALREADY_EXISTS);
            assertThat(failed.error().getMessage()).contains(existing.id());
        });
        assertThat(results.get(3000)).isInstanceOfSatisfying(BatchCreateResult.Failed.class,
                failed -> assertThat(failed.error().getMessage()).contains("duplicates draft 9"));
        List<RegistrationEntry> created = results.stream()
                .filter(BatchCreateResult.Created.class::isInstance)
                .map(r -> ((BatchCreateResult.Created) r).entry())
                .toList();
        assertThat(created).hasSize(2999);
        assertThat(created).extracting(RegistrationEntry::revision).doesNotHaveDuplicates().allMatch(r -> r >= 2 && r <= 3000);
        assertThat(store.currentRevision()).isEqualTo(3000);
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isEqualTo(3000);
        assertThat(count("SELECT COUNT(*) FROM registration_selectors")).isEqualTo(1 + 2 * 2999);
        assertThat(list(EntryFilter.all().withSelectors(MatchMode.SUBSET, selectors("unix:uid:42", "k8s:ns:team0"))))
                .extracting(RegistrationEntry::spiffeId).containsExactly(id("/w42"));
        assertThat(audit.query(AuditQuery.all().byActor("importer").limit(5000))).hasSize(2999);
        assertThat(audit.verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    @Test
    void concurrentUpdatesOfOneRevisionFromTwoServersLetExactlyOneWin() throws Exception {
        Datastore second = openDatastore();
        List<EntryStore> servers = List.of(store, EntryStore.create(second, AuditTrail.create(second, clock), clock));
        RegistrationEntry entry = store.create(draft("/web", "unix:uid:1000"), "alice");

        List<Outcome> outcomes = race(6, attempt -> servers.get(attempt % 2)
                .update(entry.id(), entry.revision(), entry.draft().withHint("attempt " + attempt), "editor-" + attempt));

        assertThat(outcomes).filteredOn(Outcome::won).hasSize(1);
        assertThat(outcomes).filteredOn(o -> !o.won()).allMatch(o -> o.reason() == Reason.REVISION_CONFLICT);
        assertThat(store.find(entry.id()).orElseThrow().revision()).isEqualTo(2);
        assertThat(audit.query(AuditQuery.all().byActionPrefix("entry.update"))).hasSize(1);
    }

    @Test
    void concurrentCreatesOfOneEntryFromTwoServersStoreItOnce() throws Exception {
        Datastore second = openDatastore();
        List<EntryStore> servers = List.of(store, EntryStore.create(second, AuditTrail.create(second, clock), clock));

        List<Outcome> outcomes = race(6, attempt -> servers.get(attempt % 2).create(draft("/web", "unix:uid:1000"), "creator-" + attempt));

        assertThat(outcomes).filteredOn(Outcome::won).hasSize(1);
        assertThat(outcomes).filteredOn(o -> !o.won()).allMatch(o -> o.reason() == Reason.ALREADY_EXISTS);
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isEqualTo(1);
    }

    @Test
    void overlappingBatchesFromTwoServersCreateEachEntryOnce() throws Exception {
        Datastore second = openDatastore();
        List<EntryStore> servers = List.of(store, EntryStore.create(second, AuditTrail.create(second, clock), clock));
        List<EntryDraft> drafts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            drafts.add(draft("/w" + i, "unix:uid:" + i));
        }
        List<List<BatchCreateResult>> results = new ArrayList<>(Collections.nCopies(2, List.of()));

        race(2, attempt -> results.set(attempt, servers.get(attempt).createBatch(drafts, "importer-" + attempt)));

        for (int i = 0; i < drafts.size(); i++) {
            BatchCreateResult first = results.get(0).get(i);
            BatchCreateResult other = results.get(1).get(i);
            assertThat(List.of(first, other)).filteredOn(BatchCreateResult.Created.class::isInstance).hasSize(1);
        }
        assertThat(count("SELECT COUNT(*) FROM registration_entries")).isEqualTo(300);
        assertThat(audit.verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    private List<RegistrationEntry> list(EntryFilter filter) {
        return store.list(filter, PageRequest.first(PageRequest.MAX_SIZE)).items();
    }

    private record Outcome(boolean won, Reason reason) {}

    private interface Attempt {
        void run(int attempt);
    }

    /** Starts {@code attempts} calls at the same moment and reports how each ended. */
    private static List<Outcome> race(int attempts, Attempt call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int i = 0; i < attempts; i++) {
                int attempt = i;
                Callable<Outcome> task = () -> {
                    start.await();
                    try {
                        call.run(attempt);
                        return new Outcome(true, null);
                    } catch (RegistrationException e) {
                        return new Outcome(false, e.reason());
                    }
                };
                futures.add(pool.submit(task));
            }
            start.countDown();
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> future : futures) {
                outcomes.add(future.get());
            }
            return outcomes;
        } finally {
            pool.shutdownNow();
        }
    }
}
