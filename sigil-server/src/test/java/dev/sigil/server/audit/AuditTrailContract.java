package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.datastore.DatastoreContract;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every datastore dialect must guarantee for the audit trail. */
abstract class AuditTrailContract extends DatastoreContract {
    private AuditTrail trail;

    @BeforeEach
    void createTrail() {
        trail = AuditTrail.create(datastore, clock);
        tamper("CREATE TABLE audit_test_side (id VARCHAR(64) PRIMARY KEY)");
    }

    @Test
    void emptyTrailVerifiesAsIntact() {
        assertThat(trail.verify()).isEqualTo(new AuditVerification.Intact(0, AuditChain.GENESIS));
    }

    @Test
    void appendedRecordsFormAChainThatVerifies() {
        AuditRecord first = trail.append(event("alice", "entry.create", "entry:1"));
        clock.advance(Duration.ofSeconds(1));
        AuditRecord second = trail.append(event("bob", "entry.update", "entry:1"));

        assertThat(first.seq()).isEqualTo(1);
        assertThat(first.prevHash()).isEqualTo("0".repeat(64));
        assertThat(second.seq()).isEqualTo(2);
        assertThat(second.prevHash()).isEqualTo(first.hash());
        assertThat(second.time()).isEqualTo(clock.instant());
        assertThat(trail.verify()).isEqualTo(new AuditVerification.Intact(2, second.hash()));
        assertThat(trail.query(AuditQuery.all())).containsExactly(first, second);
    }

    @Test
    void modifiedRecordBreaksTheChainAtThatRecord() {
        appendThree();

        tamper("UPDATE audit_records SET actor = 'mallory' WHERE seq = 2");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class, broken -> {
            assertThat(broken.firstBadSeq()).isEqualTo(2);
            assertThat(broken.reason()).contains("modified");
        });
    }

    @Test
    void rewrittenRecordWithARecomputedHashIsStillDetected() {
        List<AuditRecord> records = appendThree();
        AuditRecord original = records.get(1);
        String forgedHash = AuditChain.hash(original.seq(), original.time().toEpochMilli(), "mallory", original.action(),
                original.subject(), original.outcome().wireName(), original.details(), original.prevHash());

        tamper("UPDATE audit_records SET actor = 'mallory', hash = '" + forgedHash + "' WHERE seq = 2");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.firstBadSeq()).isEqualTo(2));
    }

    @Test
    void outcomeRewrittenToAnUnknownValueIsDetected() {
        trail.append(event("alice", "entry.create", "entry:1"));
        trail.append(new AuditEvent("bob", "entry.update", "entry:1", AuditOutcome.FAILURE, Map.of()));

        tamper("UPDATE audit_records SET outcome = 'no-such-outcome' WHERE seq = 2");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.firstBadSeq()).isEqualTo(2));
    }

    @Test
    void deletedRecordBreaksTheChainWhereItWas() {
        appendThree();

        tamper("DELETE FROM audit_records WHERE seq = 2");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class, broken -> {
            assertThat(broken.firstBadSeq()).isEqualTo(2);
            assertThat(broken.reason()).contains("missing");
        });
    }

    @Test
    void deletedLastRecordDisagreesWithTheHead() {
        appendThree();

        tamper("DELETE FROM audit_records WHERE seq = 3");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.firstBadSeq()).isEqualTo(3));
    }

    @Test
    void swappedRecordsBreakTheChainAtTheFirstOfThem() {
        appendThree();

        tamper("UPDATE audit_records SET seq = -1 WHERE seq = 2",
                "UPDATE audit_records SET seq = 2 WHERE seq = 3",
                "UPDATE audit_records SET seq = 3 WHERE seq = -1");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.firstBadSeq()).isEqualTo(2));
    }

    @Test
    void concurrentAppendsFromTwoServersFormOneLinearChain() throws Exception {
        List<AuditTrail> servers = List.of(trail, AuditTrail.create(openDatastore(), clock));
        int threads = 4;
        int appendsPerThread = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                AuditTrail server = servers.get(t % 2);
                String actor = "server-" + (t % 2) + "-thread-" + t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < appendsPerThread; i++) {
                        server.append(event(actor, "svid.x509.issue", "spiffe://example.org/w" + i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Intact.class,
                intact -> assertThat(intact.count()).isEqualTo(threads * appendsPerThread));
    }

    @Test
    void groupCommittedAppendsFormALinearChainAndEachCallerGetsItsOwnRecord() throws Exception {
        int threads = 16;
        int appendsPerThread = 20;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<AuditRecord>>> done = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                String actor = "thread-" + t;
                done.add(pool.submit(() -> {
                    start.await();
                    List<AuditRecord> mine = new ArrayList<>();
                    for (int i = 0; i < appendsPerThread; i++) {
                        mine.add(trail.append(event(actor, "svid.jwt.issue", "spiffe://example.org/w" + i)));
                    }
                    return mine;
                }));
            }
            start.countDown();
            for (int t = 0; t < threads; t++) {
                List<AuditRecord> mine = done.get(t).get();
                for (int i = 0; i < appendsPerThread; i++) {
                    AuditRecord record = mine.get(i);
                    assertThat(record.actor()).isEqualTo("thread-" + t);
                    assertThat(record.subject()).isEqualTo("spiffe://example.org/w" + i);
                }
                assertThat(mine).extracting(AuditRecord::seq).isSorted();
            }
        } finally {
            pool.shutdownNow();
        }

        List<AuditRecord> stored = trail.query(AuditQuery.all().limit(1000));
        for (Future<List<AuditRecord>> future : done) {
            for (AuditRecord record : future.get()) {
                assertThat(stored.get((int) record.seq() - 1)).isEqualTo(record);
            }
        }
        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Intact.class,
                intact -> assertThat(intact.count()).isEqualTo(threads * appendsPerThread));
    }

    @Test
    void standaloneAppendFailsClosedWhenTheBatchCannotBeWritten() {
        tamper("DELETE FROM audit_head");

        assertThatThrownBy(() -> trail.append(event("alice", "entry.create", "entry:1")))
                .hasMessageContaining("audit_head row is missing");
        assertThat(count("SELECT COUNT(*) FROM audit_records")).isZero();
    }

    @Test
    void recordAppendedInARolledBackTransactionIsGone() {
        trail.append(event("alice", "entry.create", "entry:1"));

        assertThatThrownBy(() -> datastore.transaction(connection -> {
            trail.append(connection, event("alice", "entry.create", "entry:2"));
            throw new IllegalStateException("the change failed");
        })).hasMessage("the change failed");

        assertThat(trail.query(AuditQuery.all())).extracting(AuditRecord::subject).containsExactly("entry:1");
        assertThat(trail.verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    @Test
    void changeAppendedAlongsideARecordCommitsWithIt() {
        trail.append(event("alice", "token.exchange", "token:1"), connection -> {
            try (var insert = connection.jdbc().prepareStatement("INSERT INTO audit_test_side (id) VALUES ('token:1')")) {
                insert.executeUpdate();
            }
        });

        assertThat(count("SELECT COUNT(*) FROM audit_test_side")).isEqualTo(1);
        assertThat(trail.query(AuditQuery.all())).extracting(AuditRecord::subject).containsExactly("token:1");
    }

    @Test
    void failingChangeAlongsideARecordLeavesNeitherAndFailsOnlyItsCaller() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<AuditRecord>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String id = i == 7 ? "duplicate" : "token:" + i;
                results.add(pool.submit(() -> trail.append(event("alice", "token.exchange", id), connection -> {
                    try (var insert = connection.jdbc().prepareStatement("INSERT INTO audit_test_side (id) VALUES (?)")) {
                        insert.setString(1, id);
                        insert.executeUpdate();
                        if (id.equals("duplicate")) {
                            insert.executeUpdate(); // violates the primary key
                        }
                    }
                })));
            }
            int failed = 0;
            for (Future<AuditRecord> result : results) {
                try {
                    result.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    failed++;
                }
            }
            assertThat(failed).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(count("SELECT COUNT(*) FROM audit_test_side")).isEqualTo(15);
        assertThat(count("SELECT COUNT(*) FROM audit_records")).isEqualTo(15);
        assertThat(trail.query(AuditQuery.all())).extracting(AuditRecord::subject).doesNotContain("duplicate");
        assertThat(trail.verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    @Test
    void queryFiltersByActorSubjectActionPrefixAndTime() {
        Instant start = clock.instant();
        trail.append(event("alice", "entry.create", "entry:1"));
        clock.advance(Duration.ofMinutes(1));
        trail.append(event("bob", "entry.update", "entry:1"));
        clock.advance(Duration.ofMinutes(1));
        trail.append(event("alice", "jointoken.create", "jointoken:ab"));
        trail.append(event("alice", "entry_x.create", "entry:2"));

        assertThat(trail.query(AuditQuery.all().byActor("alice"))).extracting(AuditRecord::seq).containsExactly(1L, 3L, 4L);
        assertThat(trail.query(AuditQuery.all().bySubject("entry:1"))).extracting(AuditRecord::seq).containsExactly(1L, 2L);
        assertThat(trail.query(AuditQuery.all().byActionPrefix("entry."))).extracting(AuditRecord::seq).containsExactly(1L, 2L);
        assertThat(trail.query(AuditQuery.all().between(start.plusSeconds(30), start.plusSeconds(90))))
                .extracting(AuditRecord::seq).containsExactly(2L);
        assertThat(trail.query(AuditQuery.all().byActor("alice").after(1).limit(1))).extracting(AuditRecord::seq).containsExactly(3L);
    }

    @Test
    void queryFiltersByWorkloadResourceAndTask() {
        String web = "spiffe://example.org/web";
        trail.append(new AuditEvent(web, "grant.issue", "db:orders", AuditOutcome.SUCCESS, Map.of("resource", "db:orders", "task", "t-1")));
        trail.append(new AuditEvent("admin", "svid.jwt.issue", web, AuditOutcome.SUCCESS, Map.of("task", "t-2")));
        trail.append(new AuditEvent("spiffe://example.org/batch", "grant.issue", "db:orders", AuditOutcome.SUCCESS,
                Map.of("resource", "db:orders", "task", "t-1")));
        trail.append(event("admin", "entry.create", "spiffe://example.org/web-2"));

        assertThat(trail.query(AuditQuery.all().byWorkload(web))).extracting(AuditRecord::seq).containsExactly(1L, 2L);
        assertThat(trail.query(AuditQuery.all().byDetail("resource", "db:orders"))).extracting(AuditRecord::seq).containsExactly(1L, 3L);
        assertThat(trail.query(AuditQuery.all().byDetail("task", "t-1").byWorkload(web))).extracting(AuditRecord::seq).containsExactly(1L);
        assertThat(trail.query(AuditQuery.all().byDetail("task", "t-2").byActionPrefix("svid."))).extracting(AuditRecord::seq)
                .containsExactly(2L);
        assertThat(trail.query(AuditQuery.all().byDetail("task", "t-3"))).isEmpty();
        assertThatThrownBy(() -> AuditQuery.all().byDetail("x') OR 1=1 --", "v")).isInstanceOf(AuditException.class);
    }

    @Test
    void detailsAreStoredAsCanonicalJson() {
        AuditRecord record = trail.append(new AuditEvent("alice", "entry.create", "entry:1", AuditOutcome.SUCCESS,
                Map.of("z", "last", "a", "first \"quoted\"")));

        assertThat(record.details()).isEqualTo("{\"a\":\"first \\\"quoted\\\"\",\"z\":\"last\"}");
        assertThat(trail.query(AuditQuery.all()).getFirst().details()).isEqualTo(record.details());
    }

    private List<AuditRecord> appendThree() {
        List<AuditRecord> records = new ArrayList<>();
        records.add(trail.append(event("alice", "entry.create", "entry:1")));
        records.add(trail.append(event("bob", "entry.update", "entry:1")));
        records.add(trail.append(event("carol", "entry.delete", "entry:1")));
        assertThat(trail.verify()).isInstanceOf(AuditVerification.Intact.class);
        return records;
    }

    private static AuditEvent event(String actor, String action, String subject) {
        return AuditEvent.success(actor, action, subject, Map.of("note", "test"));
    }
}
