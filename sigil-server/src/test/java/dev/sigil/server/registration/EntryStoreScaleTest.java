package dev.sigil.server.registration;

import static dev.sigil.server.registration.Entries.NODE;
import static dev.sigil.server.registration.Entries.OTHER_NODE;
import static dev.sigil.server.registration.Entries.draft;
import static dev.sigil.server.registration.Entries.selectors;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.registration.EntryFilter.MatchMode;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many entries on the embedded SQLite default: a batch import across several store chunks, then
 * agent-style selector lookups where one selector ({@code k8s:sa:default}) is on every entry, which
 * must still find exactly the right entries. Correctness only: the timings (100,000 entries) are
 * measured by {@code sigil-bench}'s {@code EntryScaleBench}, not here.
 */
class EntryStoreScaleTest {
    private static final int ENTRIES = Integer.parseInt(Optional.ofNullable(System.getenv("SIGIL_SCALE_ENTRIES")).orElse("12000"));

    @TempDir
    Path tmp;

    @Test
    void manyEntriesImportAcrossChunksAndSubsetLookupsFindExactlyTheirEntries() {
        MutableClock clock = MutableClock.atEpochOfTests();
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")))) {
            EntryStore store = EntryStore.create(datastore, AuditTrail.create(datastore, clock), clock);
            List<EntryDraft> drafts = new ArrayList<>(ENTRIES);
            for (int i = 0; i < ENTRIES; i++) {
                drafts.add(draft("/svc/" + i, "unix:uid:" + i, "k8s:ns:ns" + (i % 100), "k8s:sa:default")
                        .withParentId(i % 2 == 0 ? NODE : OTHER_NODE));
            }
            drafts.add(draft("/any-default", "k8s:sa:default"));

            List<BatchCreateResult> results = store.createBatch(drafts, "importer");

            assertThat(results).hasSize(ENTRIES + 1).allMatch(BatchCreateResult.Created.class::isInstance);

            int lookups = 200;
            for (int i = 0; i < lookups; i++) {
                int uid = (i * 997) % ENTRIES;
                List<RegistrationEntry> found = store.list(EntryFilter.all()
                                .withSelectors(MatchMode.SUBSET, selectors("unix:uid:" + uid, "unix:gid:0",
                                        "k8s:ns:ns" + (uid % 100), "k8s:sa:default", "k8s:pod-uid:abc")),
                        PageRequest.first(100)).items();
                assertThat(found).extracting(e -> e.spiffeId().path()).containsExactlyInAnyOrder("/svc/" + uid, "/any-default");
            }
        }
    }
}
