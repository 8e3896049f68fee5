package dev.sigil.server.credential;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Durable lease rows. Methods taking a {@link Transaction} run in the caller's open transaction, so the
 * caller commits a state change together with its audit record (fail closed); the others run on
 * their own. State changes are guarded by the expected current state, so two servers (or the worker
 * and an operator) never both perform the same transition: each transition method says whether it
 * applied.
 */
public interface LeaseStore {

    static LeaseStore create(Datastore datastore) {
        return new SqlLeaseStore(datastore);
    }

    /**
     * Inserts a lease in the caller's transaction, in whatever state it has: {@link LeaseState#PENDING}
     * before a broker grant, or {@link LeaseState#ACTIVE} for a credential minted inside the same
     * transaction (the token broker records access tokens this way from token exchange).
     */
    default void insert(Transaction transaction, Lease lease) throws SQLException {
        insert(transaction, lease, null);
    }

    /** {@link #insert(Transaction, Lease)}, recording {@code server} as the one granting it (null: none). */
    void insert(Transaction transaction, Lease lease, String server) throws SQLException;

    Optional<Lease> find(LeaseId id);

    Optional<Lease> find(Transaction transaction, LeaseId id) throws SQLException;

    /** Matching leases, newest first, at most {@code limit}. */
    List<Lease> list(LeaseFilter filter, int limit);

    /** Pending → active with the broker's details and the leak hash; false when the lease is no longer pending. */
    boolean activate(Transaction transaction, LeaseId id, Map<String, String> details, String leakHash) throws SQLException;

    /** Moves an active lease's expiry; false when it is not active. */
    boolean renew(Transaction transaction, LeaseId id, Instant newExpiry) throws SQLException;

    /**
     * Marks every pending or active lease matching {@code filter} revoking (next attempt due
     * {@code at}) and returns them as they were before; leases already revoking or revoked are left.
     */
    default List<Lease> markRevoking(Transaction transaction, LeaseFilter filter, String reason, Instant at) throws SQLException {
        return markRevoking(transaction, filter, reason, at, Optional.empty(), at);
    }

    /**
     * {@link #markRevoking(Transaction, LeaseFilter, String, Instant)}, with the first backend attempt of
     * every marked lease claimed by {@code server} until {@code nextAttemptAt} (as {@link #claim} would)
     * when {@code server} is present, or due at {@code nextAttemptAt} and unclaimed when it is empty.
     */
    List<Lease> markRevoking(Transaction transaction, LeaseFilter filter, String reason, Instant at, Optional<String> server,
                             Instant nextAttemptAt) throws SQLException;

    /** Revoked → revoking again (the backend still holds it); false when the lease is not revoked. */
    boolean reopen(Transaction transaction, LeaseId id, String reason, Instant at) throws SQLException;

    /**
     * Claims a due revoking lease's next backend attempt for {@code server} until {@code until} (no other
     * server attempts it meanwhile); false when it is not revoking, not due at {@code now}, or claimed.
     */
    boolean claim(LeaseId id, String server, Instant now, Instant until);

    /**
     * Makes revoking leases due at {@code at} whose attempt is claimed by a server not in {@code live}
     * (it died mid-attempt), and with {@code unclaimedToo} also those waiting without a claim (start-up:
     * retry what failed before at once); returns how many.
     */
    int retryClaimsOfGone(Instant at, Set<String> live, boolean unclaimedToo);

    /**
     * Releases {@code server}'s claim on each of {@code ids} that is still revoking and claimed by it, making
     * it due at {@code at} for any server's worker; returns how many. Leases claimed by another server, or
     * no longer revoking, are left as they are.
     */
    int releaseClaims(Collection<LeaseId> ids, String server, Instant at);

    /** Pending leases recorded by a server not in {@code live}, or by none: grants whose server stopped. */
    List<Lease> pendingOfGone(Set<String> live, int limit);

    /** Revoking → revoked; false when the lease is not revoking (someone else finished it). */
    boolean markRevoked(Transaction transaction, LeaseId id, Instant at) throws SQLException;

    /**
     * Active → revoked at once, without a backend call: for a credential already dead by its issuer's own
     * record (an access token whose registry row reads revoked), so lease lists agree with it. False when
     * the lease is not active (already being revoked through the lease service, or closed).
     */
    boolean closeRevoked(Transaction transaction, LeaseId id, String reason, Instant at) throws SQLException;

    /** The distinct holders of pending or active leases granted through an agent's identity (registration-bound). */
    List<dev.sigil.core.spiffeid.SpiffeId> liveHoldersThroughAgents();

    /** Records a failed backend revocation attempt of a revoking lease. */
    void recordFailure(LeaseId id, int attempts, String error, Instant nextAttemptAt);

    /** Revoking leases whose next attempt is due at {@code now}, earliest first. */
    List<Lease> dueForRevocation(Instant now, int limit);

    /** Active leases expired at {@code now}. */
    List<Lease> expired(Instant now, int limit);

    /** Closes {@code broker}'s expired active leases as revoked (reason {@code expired}) in one statement; returns how many. */
    int closeExpired(String broker, Instant now);

    /** Pending leases issued before {@code before} (grants that were interrupted). */
    List<Lease> pendingSince(Instant before, int limit);

    /**
     * The brokers whose credentials name their lease ({@link Broker#namedLease}: the token service's
     * access and transaction tokens). Their leases' leak hashes are kept but not indexed (migration V28):
     * one is minted per token exchange, and an index of random hashes cost every exchange a page written
     * at a random place. A leak report finds them by id instead.
     */
    List<String> SELF_NAMING_BROKERS = List.of("token", "txn_token");

    /** Leases of brokers other than {@link #SELF_NAMING_BROKERS} whose leak hash is one of {@code hashes}. */
    List<Lease> findByLeakHash(List<String> hashes);

    /** How many leases are in each state (every state present, zero when none). */
    Map<LeaseState, Long> countByState();

    /** How many revoking leases have had at least one failed attempt. */
    long failingRevocations();
}
