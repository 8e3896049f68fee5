package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.DatastoreContract;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the lease store guarantees on every datastore dialect. */
abstract class LeaseStoreContract extends DatastoreContract {
    static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/job");
    static final SpiffeId OTHER = SpiffeId.parse("spiffe://sigil.test/web");
    static final SpiffeId AGENT = SpiffeId.parse("spiffe://sigil.test/sigil/agent/join_token/n1");
    private LeaseStore store;

    @BeforeEach
    void createStore() {
        store = LeaseStore.create(datastore);
    }

    private Lease lease(SpiffeId holder, Optional<String> task, LeaseState state) {
        return lease(LeaseId.random(), holder, task, state);
    }

    private Lease lease(LeaseId id, SpiffeId holder, Optional<String> task, LeaseState state) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return new Lease(id, "fake", holder, task, "db1", now, now.plus(Duration.ofMinutes(10)),
                now.plus(Duration.ofHours(1)), state, Map.of(), Optional.empty(), Optional.of(AGENT),
                List.of(OTHER), Optional.empty());
    }

    private <T> T tx(dev.sigil.server.datastore.Datastore.Work<T> work) {
        return datastore.transaction(work);
    }

    private Lease insert(Lease lease) {
        datastore.transaction(connection -> {
            store.insert(connection, lease);
            return null;
        });
        return lease;
    }

    @Test
    void insertedLeaseIsFoundWithEveryField() {
        Lease lease = insert(lease(HOLDER, Optional.of("task-1"), LeaseState.PENDING));
        assertThat(store.find(lease.id())).contains(lease);
        assertThat(store.find(LeaseId.random())).isEmpty();
    }

    @Test
    void pendingLeaseIsActivatedOnceWithDetailsAndLeakHash() {
        Lease lease = insert(lease(HOLDER, Optional.empty(), LeaseState.PENDING));
        assertThat(this.<Boolean>tx(c -> store.activate(c, lease.id(), Map.of("role", "r1"), "k1:abc"))).as("transition").isTrue();
        assertThat(this.<Boolean>tx(c -> store.activate(c, lease.id(), Map.of(), "k1:def"))).as("transition").isFalse();
        Lease active = store.find(lease.id()).orElseThrow();
        assertThat(active.state()).isEqualTo(LeaseState.ACTIVE);
        assertThat(active.details()).containsEntry("role", "r1");
        assertThat(store.findByLeakHash(List.of("k1:abc"))).extracting(Lease::id).containsExactly(lease.id());
    }

    @Test
    void aLeakHashLookUpLeavesOutTheLeasesOfBrokersWhoseCredentialsNameTheirLease() {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        List<Lease> leases = new java.util.ArrayList<>();
        for (String broker : List.of("fake", LeaseStore.SELF_NAMING_BROKERS.get(0), LeaseStore.SELF_NAMING_BROKERS.get(1))) {
            leases.add(insert(new Lease(LeaseId.random(), broker, HOLDER, Optional.empty(), "db1", now, now.plus(Duration.ofMinutes(10)),
                    now.plus(Duration.ofMinutes(10)), LeaseState.ACTIVE, Map.of(), Optional.of("k1:" + broker), Optional.empty(), List.of(),
                    Optional.empty())));
        }

        assertThat(store.findByLeakHash(List.of("k1:fake", "k1:token", "k1:txn_token"))).extracting(Lease::id)
                .containsExactly(leases.get(0).id());
        assertThat(store.find(leases.get(1).id()).orElseThrow().leakHash()).contains("k1:token");
    }

    @Test
    void anActiveLeaseWhoseCredentialIsDeadIsClosedAtOnceButALeaseBeingRevokedIsLeftToTheRevoker() {
        Lease active = insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Lease pending = insert(lease(HOLDER, Optional.empty(), LeaseState.PENDING));
        Instant at = clock.instant().truncatedTo(ChronoUnit.MILLIS);

        assertThat(this.<Boolean>tx(c -> store.closeRevoked(c, active.id(), "token revoked", at))).isTrue();
        assertThat(this.<Boolean>tx(c -> store.closeRevoked(c, active.id(), "token revoked", at))).as("second close").isFalse();
        assertThat(this.<Boolean>tx(c -> store.closeRevoked(c, pending.id(), "token revoked", at))).as("pending lease").isFalse();
        Lease closed = store.find(active.id()).orElseThrow();
        assertThat(closed.state()).isEqualTo(LeaseState.REVOKED);
        assertThat(closed.revocation()).hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("token revoked"));
        assertThat(store.find(pending.id()).orElseThrow().state()).isEqualTo(LeaseState.PENDING);
    }

    @Test
    void liveHoldersAreThoseWithAPendingOrActiveLeaseGrantedThroughAnAgent() {
        insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        insert(lease(HOLDER, Optional.empty(), LeaseState.PENDING));
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        insert(new Lease(LeaseId.random(), "fake", OTHER, Optional.empty(), "db1", now, now.plus(Duration.ofMinutes(10)),
                now.plus(Duration.ofHours(1)), LeaseState.ACTIVE, Map.of(), Optional.empty(), Optional.empty(), List.of(),
                Optional.empty()));
        SpiffeId gone = SpiffeId.parse("spiffe://sigil.test/gone");
        Lease revoked = insert(lease(gone, Optional.empty(), LeaseState.ACTIVE));
        tx(c -> store.closeRevoked(c, revoked.id(), "token revoked", now));

        assertThat(store.liveHoldersThroughAgents()).containsExactly(HOLDER);
    }

    @Test
    void filtersSelectByHolderTaskAgentBrokerPrefixAndState() {
        Lease a = insert(lease(HOLDER, Optional.of("task-1"), LeaseState.ACTIVE));
        Lease b = insert(lease(OTHER, Optional.of("task-2"), LeaseState.ACTIVE));
        assertThat(store.list(LeaseFilter.all().withHolder(HOLDER), 10)).extracting(Lease::id).containsExactly(a.id());
        assertThat(store.list(LeaseFilter.all().withTask("task-2"), 10)).extracting(Lease::id).containsExactly(b.id());
        assertThat(store.list(LeaseFilter.all().withAgent(AGENT), 10)).hasSize(2);
        assertThat(store.list(LeaseFilter.all().withBroker("other"), 10)).isEmpty();
        assertThat(store.list(LeaseFilter.all().withPrefix(a.id().value().substring(0, 10)), 10)).extracting(Lease::id)
                .containsExactly(a.id());
        assertThat(store.list(LeaseFilter.all().withState(LeaseState.REVOKED), 10)).isEmpty();
        assertThatThrownBy(() -> LeaseFilter.all().withPrefix("ab")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'ab'");
    }

    @Test
    void aPrefixOfATimeOrderedIdSelectsTheLeasesOfThatSpanOnly() {
        Instant at = Instant.parse("2026-12-06T15:00:00Z");
        Lease early = insert(lease(LeaseId.timeOrdered(at), HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Lease sameMilli = insert(lease(LeaseId.timeOrdered(at), HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Lease later = insert(lease(LeaseId.timeOrdered(at.plusSeconds(60)), HOLDER, Optional.empty(), LeaseState.ACTIVE));
        String millisecond = early.id().value().substring(0, LeaseId.TIME_CHARS);
        assertThat(store.list(LeaseFilter.all().withPrefix(millisecond), 10)).extracting(Lease::id)
                .containsExactlyInAnyOrder(early.id(), sameMilli.id());
        assertThat(store.list(LeaseFilter.all().withPrefix(early.id().value().substring(0, 4)), 10)).extracting(Lease::id)
                .containsExactlyInAnyOrder(early.id(), sameMilli.id(), later.id());
        assertThat(store.list(LeaseFilter.all().withPrefix(later.id().value().substring(0, LeaseId.TIME_CHARS + 2)), 10))
                .extracting(Lease::id).containsExactly(later.id());
    }

    @Test
    void anIdPrefixSelectsEveryLeaseStartingWithItAndNoNeighbour() {
        LeaseId lowest = insert(lease(LeaseId.parse("abcd" + "2".repeat(20)), HOLDER, Optional.empty(), LeaseState.ACTIVE)).id();
        LeaseId highest = insert(lease(LeaseId.parse("abcd" + "z".repeat(20)), HOLDER, Optional.empty(), LeaseState.ACTIVE)).id();
        LeaseId digitNeighbour = insert(lease(LeaseId.parse("abc7" + "z".repeat(20)), HOLDER, Optional.empty(), LeaseState.ACTIVE)).id();
        insert(lease(LeaseId.parse("abce" + "2".repeat(20)), HOLDER, Optional.empty(), LeaseState.ACTIVE));
        insert(lease(LeaseId.parse("abc" + "2".repeat(21)), HOLDER, Optional.empty(), LeaseState.ACTIVE));

        assertThat(store.list(LeaseFilter.all().withPrefix("abcd"), 10)).extracting(Lease::id).containsExactlyInAnyOrder(lowest, highest);
        assertThat(store.list(LeaseFilter.all().withPrefix("abc7"), 10)).extracting(Lease::id).containsExactly(digitNeighbour);
        assertThat(store.list(LeaseFilter.all().withPrefix("abcdz"), 10)).extracting(Lease::id).containsExactly(highest);
        assertThat(store.list(LeaseFilter.all().withPrefix(highest.value()), 10)).extracting(Lease::id).containsExactly(highest);
        assertThat(store.list(LeaseFilter.all().withPrefix("abcf"), 10)).isEmpty();
    }

    @Test
    void revocationGoesThroughRevokingToRevokedExactlyOnce() {
        Lease lease = insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Instant now = clock.instant();
        List<Lease> marked = tx(c -> store.markRevoking(c, LeaseFilter.all().withHolder(HOLDER), "admin", now));
        assertThat(marked)
                .extracting(Lease::id).containsExactly(lease.id());
        List<Lease> again = tx(c -> store.markRevoking(c, LeaseFilter.all().withHolder(HOLDER), "again", now));
        assertThat(again).isEmpty();
        assertThat(store.dueForRevocation(now, 10)).extracting(Lease::id).containsExactly(lease.id());

        store.recordFailure(lease.id(), 1, "backend down", now.plusSeconds(1));
        assertThat(store.dueForRevocation(now, 10)).isEmpty();
        Lease failing = store.find(lease.id()).orElseThrow();
        assertThat(failing.revocation().orElseThrow().attempts()).isEqualTo(1);
        assertThat(failing.revocation().orElseThrow().lastError()).contains("backend down");
        assertThat(store.failingRevocations()).isEqualTo(1);
        assertThat(store.retryClaimsOfGone(now, java.util.Set.of("server-a"), true)).as("unclaimed, waiting: retried at start-up").isEqualTo(1);
        assertThat(store.dueForRevocation(now, 10)).hasSize(1);

        assertThat(this.<Boolean>tx(c -> store.markRevoked(c, lease.id(), now))).as("transition").isTrue();
        assertThat(this.<Boolean>tx(c -> store.markRevoked(c, lease.id(), now))).as("transition").isFalse();
        assertThat(store.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
        assertThat(store.countByState()).containsEntry(LeaseState.REVOKED, 1L).containsEntry(LeaseState.ACTIVE, 0L);
        assertThat(this.<Boolean>tx(c -> store.reopen(c, lease.id(), "still granted", now))).as("transition").isTrue();
        assertThat(store.find(lease.id()).orElseThrow().state()).isEqualTo(LeaseState.REVOKING);
    }

    @Test
    void oneServerAtATimeClaimsARevocationAttemptAndAStoppedServersClaimIsReleased() {
        Lease lease = insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Instant now = clock.instant();
        tx(c -> store.markRevoking(c, LeaseFilter.all().withId(lease.id()), "admin", now));

        assertThat(store.claim(lease.id(), "server-a", now, now.plusSeconds(60))).as("first claim").isTrue();
        assertThat(store.claim(lease.id(), "server-b", now, now.plusSeconds(60))).as("claimed by a").isFalse();
        assertThat(store.dueForRevocation(now, 10)).as("not due while claimed").isEmpty();

        assertThat(store.retryClaimsOfGone(now, java.util.Set.of("server-a", "server-b"), false)).as("a is alive").isZero();
        assertThat(store.retryClaimsOfGone(now, java.util.Set.of("server-b"), false)).as("a stopped").isEqualTo(1);
        assertThat(store.dueForRevocation(now, 10)).extracting(Lease::id).containsExactly(lease.id());
        assertThat(store.claim(lease.id(), "server-b", now, now.plusSeconds(60))).as("b takes it over").isTrue();
        assertThat(this.<Boolean>tx(c -> store.markRevoked(c, lease.id(), now))).isTrue();
        assertThat(store.claim(lease.id(), "server-a", now.plusSeconds(120), now.plusSeconds(180))).as("revoked").isFalse();
    }

    @Test
    void aServerReleasesOnlyItsOwnClaimsOnRevokingLeasesAndTheyAreDueAtOnce() {
        Instant now = clock.instant();
        List<Lease> mine = java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE))).toList();
        Lease theirs = insert(lease(OTHER, Optional.empty(), LeaseState.ACTIVE));
        Lease active = insert(lease(OTHER, Optional.empty(), LeaseState.ACTIVE));
        tx(c -> store.markRevoking(c, LeaseFilter.all().withHolder(HOLDER), "admin", now, Optional.of("server-a"), now.plusSeconds(60)));
        tx(c -> store.markRevoking(c, LeaseFilter.all().withId(theirs.id()), "admin", now, Optional.of("server-b"), now.plusSeconds(60)));
        assertThat(store.dueForRevocation(now, 10)).as("all claimed").isEmpty();

        List<LeaseId> asked = new java.util.ArrayList<>(mine.stream().map(Lease::id).toList());
        asked.addAll(List.of(theirs.id(), active.id()));
        java.util.stream.Stream.generate(LeaseId::random).limit(1_200).forEach(asked::add); // more ids than one statement binds
        java.util.Collections.shuffle(asked, new java.util.Random(7));
        assertThat(store.releaseClaims(asked, "server-a", now)).isEqualTo(3);

        assertThat(store.dueForRevocation(now, 10)).extracting(Lease::id).containsExactlyInAnyOrderElementsOf(
                mine.stream().map(Lease::id).toList());
        assertThat(store.claim(theirs.id(), "server-a", now, now.plusSeconds(60))).as("still b's").isFalse();
        assertThat(store.find(active.id()).orElseThrow().state()).isEqualTo(LeaseState.ACTIVE);
        assertThat(store.claim(mine.getFirst().id(), "server-b", now, now.plusSeconds(60))).as("released to anyone").isTrue();
    }

    @Test
    void pendingGrantsOfStoppedServersAreFoundAndThoseOfLiveServersAreNot() {
        Lease ofA = lease(HOLDER, Optional.empty(), LeaseState.PENDING);
        Lease ofB = lease(OTHER, Optional.empty(), LeaseState.PENDING);
        Lease ofNobody = lease(OTHER, Optional.empty(), LeaseState.PENDING);
        tx(c -> {
            store.insert(c, ofA, "server-a");
            store.insert(c, ofB, "server-b");
            store.insert(c, ofNobody);
            return null;
        });
        assertThat(store.pendingOfGone(java.util.Set.of("server-a"), 10)).extracting(Lease::id)
                .containsExactlyInAnyOrder(ofB.id(), ofNobody.id());
        assertThat(store.pendingOfGone(java.util.Set.of(), 10)).hasSize(3);
    }

    @Test
    void renewStaysWithinTheMaximumExpiry() {
        Lease lease = insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        assertThat(this.<Boolean>tx(c -> store.renew(c, lease.id(), lease.maxExpiresAt()))).as("transition").isTrue();
        assertThat(this.<Boolean>tx(c -> store.renew(c, lease.id(), lease.maxExpiresAt().plusSeconds(1)))).as("transition").isFalse();
        assertThat(store.find(lease.id()).orElseThrow().expiresAt()).isEqualTo(lease.maxExpiresAt());
    }

    @Test
    void expiredAndStalePendingLeasesAreListed() {
        Lease active = insert(lease(HOLDER, Optional.empty(), LeaseState.ACTIVE));
        Lease pending = insert(lease(HOLDER, Optional.empty(), LeaseState.PENDING));
        assertThat(store.expired(clock.instant(), 10)).isEmpty();
        clock.advance(Duration.ofMinutes(10));
        assertThat(store.expired(clock.instant(), 10)).extracting(Lease::id).containsExactly(active.id());
        assertThat(store.pendingSince(clock.instant(), 10)).extracting(Lease::id).containsExactly(pending.id());
    }
}
