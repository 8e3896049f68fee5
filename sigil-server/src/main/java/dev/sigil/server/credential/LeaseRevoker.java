package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes revocation durable: every lease marked {@code revoking} (its intent and audit record already
 * committed) is revoked in its backend, retried with exponential backoff ({@value #FIRST_RETRY_MS} ms
 * doubling up to {@value #MAX_RETRY_MS} ms) until the broker confirms, then marked {@code revoked}
 * with a {@code credential.revoke} record. Failures stay visible: the lease's attempts and last error
 * in the store, a {@code credential.revoke_failed} record on the first failure and every
 * {@value #AUDIT_FAILURE_EVERY}th after, the failing-revocations metric.
 *
 * <p>Also reaps expired active leases (they become revoking) and reconciles at start-up (see
 * {@link #reconcile()}). The work runs on one background thread ({@link #start()}) or, in tests, by
 * calling {@link #reapExpired()} and {@link #runDue()} on a controlled clock.
 *
 * <p>With several servers on one datastore ({@link ClusterView}): the server that requests a revocation
 * attempts it at once; the reaper and the retry worker run on the job leader only; each backend attempt
 * is claimed first, so two servers never attempt one revocation at the same time; and what a stopped
 * server had under way (a grant, a claimed attempt) is taken over once its heartbeat lapses.
 */
public final class LeaseRevoker {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseRevoker.class);
    static final long FIRST_RETRY_MS = 1_000;
    static final long MAX_RETRY_MS = 60_000;
    static final int AUDIT_FAILURE_EVERY = 10;
    /** A pending lease older than this, seen while the server runs, is a grant whose finish was lost. */
    static final Duration STALE_PENDING = Duration.ofMinutes(5);
    /** How long a claimed revocation attempt keeps other servers off it; a stopped claimer's claim is released sooner. */
    static final Duration CLAIM = Duration.ofSeconds(60);
    /**
     * How long a revocation request spends on first attempts before it answers: leases not attempted by
     * then have their claim released and are left to the worker (so a request for thousands of leases
     * answers well within the admin client's timeout, and no queued lease keeps a claim it cannot use).
     */
    public static final Duration IMMEDIATE_BUDGET = Duration.ofSeconds(10);
    private static final int BATCH = 200;
    private static final long TICK_MS = 250;
    private static final String ACTOR = "sigil-server";
    private static final SpiffeId UNKNOWN_HOLDER = SpiffeId.parse("spiffe://sigil.invalid/unknown-holder");

    /**
     * What a revocation request did: leases marked revoking, how many the backend already confirmed, and
     * how many were left to the worker without an attempt because the request's time for attempts ran out.
     */
    public record Result(int requested, int revoked, int deferred) {
        public Result {
            if (revoked < 0 || deferred < 0 || revoked + deferred > requested) {
                throw new IllegalArgumentException("revoked " + revoked + " and deferred " + deferred + " of " + requested);
            }
        }

        public int stillRevoking() {
            return requested - revoked;
        }
    }

    private final LeaseStore store;
    private final Datastore datastore;
    private final AuditTrail audit;
    private final Map<String, ConfiguredBroker> brokers;
    private final Clock clock;
    private final ClusterView cluster;
    private final Object signal = new Object();
    private final Duration immediateBudget;

    LeaseRevoker(LeaseStore store, Datastore datastore, AuditTrail audit, Map<String, ConfiguredBroker> brokers, Clock clock,
                 ClusterView cluster, Duration immediateBudget) {
        this.store = store;
        this.datastore = datastore;
        this.audit = audit;
        this.brokers = brokers;
        this.clock = clock;
        this.cluster = cluster;
        this.immediateBudget = immediateBudget;
    }

    /** Marks matching leases revoking with one {@code credential.revoke_requested} record each, in the caller's transaction. */
    List<Lease> markRevoking(Transaction transaction, LeaseFilter filter, String reason, String actor) throws SQLException {
        Instant now = clock.instant();
        List<Lease> marked = store.markRevoking(transaction, filter, reason, now, Optional.empty(), now);
        audit.appendAll(transaction, requested(marked, reason, actor));
        return marked;
    }

    private static List<AuditEvent> requested(List<Lease> marked, String reason, String actor) {
        List<AuditEvent> events = new ArrayList<>();
        for (Lease lease : marked) {
            events.add(AuditEvent.success(actor, "credential.revoke_requested", lease.holder().toString(),
                    details(lease, Map.of("reason", dev.sigil.core.Printable.clip(reason), "previous_state", lease.state().wireName()))));
        }
        return events;
    }

    /** A grant threw or could not be recorded: the lease goes revoking so the backend is cleaned. */
    void grantFailed(Lease pending, RuntimeException cause) {
        try {
            datastore.transaction(transaction -> {
                List<Lease> marked = store.markRevoking(transaction, LeaseFilter.all().withId(pending.id()), "grant failed", clock.instant());
                if (!marked.isEmpty()) {
                    audit.append(transaction, new AuditEvent(pending.holder().toString(), "credential.grant_failed",
                            pending.holder().toString(), AuditOutcome.FAILURE,
                            details(pending, Map.of("error", dev.sigil.core.Printable.clip(String.valueOf(cause.getMessage()))))));
                }
                return null;
            });
            wake();
        } catch (RuntimeException e) {
            // The row stays pending: the reaper (stale pending) or the next start-up reconciliation revokes it.
            LOG.error("cannot mark failed grant of lease {} revoking; it is revoked later: {}", pending.id(), e.getMessage(), e);
        }
    }

    /**
     * Marks matching leases revoking as {@link #markRevoking} does, with their first backend attempt
     * claimed by this server in the same transaction (so the worker and other servers leave it to
     * {@link #attemptNow}); returns them as they are now (revoking, no attempt made yet).
     */
    List<Lease> markRevokingToAttempt(Transaction transaction, LeaseFilter filter, String reason, String actor) throws SQLException {
        Instant now = clock.instant();
        Instant claimedUntil = now.plus(CLAIM);
        List<Lease> marked = store.markRevoking(transaction, filter, reason, now, Optional.of(cluster.self()), claimedUntil);
        audit.appendAll(transaction, requested(marked, reason, actor));
        String stored = SqlLeaseStore.clip(reason);
        return marked.stream().map(lease -> lease.revokingSince(stored, now, claimedUntil)).toList();
    }

    /**
     * Tries the backend once for each lease {@link #markRevokingToAttempt} marked (its attempt already claimed
     * by this server), up to each broker's {@link Broker#parallelism()} at once; failures are left to the worker.
     * No attempt starts once the request's budget ({@link #IMMEDIATE_BUDGET}) is spent: the leases not
     * attempted by then have their claim released, so the worker takes them at once (they stay revoking,
     * their intent already durable).
     */
    Result attemptNow(List<Lease> claimed) {
        List<Lease> notAttempted = new ArrayList<>();
        int revoked = attemptAll(claimed, false, System.nanoTime() + immediateBudget.toNanos(), notAttempted);
        int deferred = 0;
        if (!notAttempted.isEmpty()) {
            try {
                deferred = store.releaseClaims(notAttempted.stream().map(Lease::id).toList(), cluster.self(), clock.instant());
            } catch (RuntimeException e) {
                // their claims lapse after CLAIM and the worker takes them then
                LOG.warn("cannot release the claims of {} revocation(s) left to the worker; they are retried once the claims lapse: {}",
                        notAttempted.size(), e.getMessage());
                deferred = notAttempted.size();
            }
        }
        if (revoked < claimed.size()) {
            wake();
        }
        return new Result(claimed.size(), revoked, Math.min(deferred, claimed.size() - revoked));
    }

    /** One pass of the worker: attempts every revocation due now, in parallel per broker. Returns how many succeeded. */
    public int runDue() {
        return runDuePass().revoked();
    }

    /** One worker pass: how many revocations were due (at most {@link #BATCH}) and how many of them succeeded. */
    private record Pass(int due, int revoked) {
    }

    private Pass runDuePass() {
        List<Lease> due = store.dueForRevocation(clock.instant(), BATCH);
        return new Pass(due.size(), attemptAll(due, true, Long.MAX_VALUE, new ArrayList<>()));
    }

    /**
     * Attempts each lease (claiming it first when {@code claim}), per broker at most its parallelism at once;
     * no attempt starts after {@code deadlineNanos} ({@link System#nanoTime()}), and the leases left then are
     * added to {@code notAttempted}.
     */
    private int attemptAll(List<Lease> leases, boolean claim, long deadlineNanos, List<Lease> notAttempted) {
        if (leases.isEmpty()) {
            return 0;
        }
        Map<String, List<Lease>> byBroker = new LinkedHashMap<>();
        leases.forEach(lease -> byBroker.computeIfAbsent(lease.broker(), b -> new ArrayList<>()).add(lease));
        AtomicInteger revoked = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<Queue<Lease>> queues = new ArrayList<>();
        for (Map.Entry<String, List<Lease>> entry : byBroker.entrySet()) {
            ConfiguredBroker configured = brokers.get(entry.getKey());
            int parallelism = Math.min(entry.getValue().size(), Math.max(1, configured == null ? 1 : configured.broker().parallelism()));
            Queue<Lease> queue = new ConcurrentLinkedQueue<>(entry.getValue());
            queues.add(queue);
            for (int i = 0; i < parallelism; i++) {
                Runnable drain = () -> {
                    for (Lease lease = next(queue, deadlineNanos); lease != null; lease = next(queue, deadlineNanos)) {
                        if (claim ? attempt(lease) : attemptClaimed(lease)) {
                            revoked.incrementAndGet();
                        }
                    }
                };
                if (byBroker.size() == 1 && parallelism == 1) {
                    drain.run();
                } else {
                    threads.add(Thread.ofPlatform().name("sigil-lease-revoke-" + entry.getKey() + "-" + i).daemon().start(drain));
                }
            }
        }
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return revoked.get(); // the drains finish on their own; what they leave is retried by the worker
            }
        }
        // every drain has stopped: what is still queued was never attempted
        queues.forEach(notAttempted::addAll);
        return revoked.get();
    }

    private static Lease next(Queue<Lease> queue, long deadlineNanos) {
        return System.nanoTime() - deadlineNanos < 0 ? queue.poll() : null;
    }

    /**
     * Moves expired active leases, pending ones whose grant was lost (their server stopped, or they stayed
     * pending for {@link #STALE_PENDING}), to revoking, and makes revocations a stopped server had claimed
     * due again. Returns how many leases it moved. The one-server part of the revoker: with several servers
     * it runs on the job leader only.
     */
    public int reapExpired() {
        Instant now = clock.instant();
        int reaped = 0;
        for (ConfiguredBroker configured : brokers.values()) {
            if (configured.broker().expiresByItself()) {
                reaped += store.closeExpired(configured.name(), now);
            }
        }
        for (Lease lease : store.expired(now, BATCH)) {
            reaped += datastore.transaction(transaction ->
                    markRevoking(transaction, LeaseFilter.all().withId(lease.id()).withState(LeaseState.ACTIVE), "expired", ACTOR)).size();
        }
        for (Lease lease : store.pendingSince(now.minus(STALE_PENDING), BATCH)) {
            reaped += interrupted(lease, "grant interrupted");
        }
        Set<String> live = live();
        for (Lease lease : store.pendingOfGone(live, BATCH)) {
            reaped += interrupted(lease, "grant interrupted (its server stopped)");
        }
        store.retryClaimsOfGone(now, live, false);
        return reaped;
    }

    private int interrupted(Lease lease, String reason) {
        return datastore.transaction(transaction ->
                markRevoking(transaction, LeaseFilter.all().withId(lease.id()).withState(LeaseState.PENDING), reason, ACTOR)).size();
    }

    /** The live servers, this one always among them. */
    private Set<String> live() {
        Set<String> live = new java.util.HashSet<>(cluster.live().get());
        live.add(cluster.self());
        return live;
    }

    /**
     * Start-up reconciliation, run before the server accepts requests: pending leases whose server is not
     * alive (grants a crash interrupted) become revoking; revocations not claimed by a live server are
     * retried at once; and for every broker that can list its backend, anything granted there that the
     * store does not hold as pending or active is revoked — an unknown id is recorded as a revoking lease
     * of an unknown holder first, so its revocation is retried and visible like any other. Work another
     * live server has under way is left to it; a server that died moments ago may still count as alive
     * here, and its work is taken over by the job leader's {@link #reapExpired()} once its heartbeat lapses.
     */
    public void reconcile() {
        Instant now = clock.instant();
        Set<String> live = live();
        int interrupted = 0;
        int marked;
        do { // in batches; stops when a batch marks nothing (what is left changed state meanwhile)
            marked = 0;
            for (Lease lease : store.pendingOfGone(live, BATCH)) {
                marked += interrupted(lease, "grant interrupted");
            }
            interrupted += marked;
        } while (marked > 0);
        int retried = store.retryClaimsOfGone(now, live, true);
        int orphans = 0;
        for (ConfiguredBroker configured : brokers.values()) {
            Optional<Set<LeaseId>> granted;
            try {
                granted = configured.broker().granted();
            } catch (RuntimeException e) {
                LOG.error("cannot list what broker {} has granted; its orphans are revoked at the next start: {}", configured.name(),
                        e.getMessage());
                continue;
            }
            for (LeaseId id : granted.orElse(Set.of())) {
                if (reconcileGranted(configured, id, now)) {
                    orphans++;
                }
            }
        }
        if (interrupted + retried + orphans > 0) {
            LOG.info("lease reconciliation: {} interrupted grant(s), {} revocation(s) to retry, {} backend orphan(s) to revoke",
                    interrupted, retried, orphans);
        }
        runDue();
    }

    private boolean reconcileGranted(ConfiguredBroker configured, LeaseId id, Instant now) {
        return datastore.transaction(transaction -> {
            Optional<Lease> lease = store.find(transaction, id);
            if (lease.isPresent() && lease.get().state() != LeaseState.REVOKED) {
                return false;
            }
            if (lease.isPresent()) {
                store.reopen(transaction, id, "still granted after revocation", now);
                audit.append(transaction, AuditEvent.success(ACTOR, "credential.revoke_requested", lease.get().holder().toString(),
                        details(lease.get(), Map.of("reason", "still granted after revocation"))));
                return true;
            }
            Lease orphan = new Lease(id, configured.name(), UNKNOWN_HOLDER, Optional.empty(), "unknown", now, now, now,
                    LeaseState.REVOKING, Map.of(), Optional.empty(), Optional.empty(), List.of(),
                    Optional.of(new Lease.Revocation("not recorded (orphan in backend)", now, 0, Optional.empty(), Optional.of(now),
                            Optional.empty())));
            store.insert(transaction, orphan);
            audit.append(transaction, AuditEvent.success(ACTOR, "credential.revoke_requested", UNKNOWN_HOLDER.toString(),
                    details(orphan, Map.of("reason", "not recorded (orphan in backend)"))));
            return true;
        });
    }

    /**
     * Calls the broker for one revoking lease, after claiming the attempt (so no other server attempts it
     * at the same time); true when it confirmed. False, without a call, when the lease is not due or
     * another server claimed it. Never throws.
     */
    boolean attempt(Lease lease) {
        Instant claimedAt = clock.instant();
        try {
            if (!store.claim(lease.id(), cluster.self(), claimedAt, claimedAt.plus(CLAIM))) {
                return false;
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot claim the revocation of lease {}; it is retried: {}", lease.id(), e.getMessage());
            return false;
        }
        return attemptClaimed(lease);
    }

    /** {@link #attempt} for a lease whose attempt this server has already claimed. Never throws. */
    private boolean attemptClaimed(Lease lease) {
        ConfiguredBroker configured = brokers.get(lease.broker());
        RuntimeException failure;
        if (configured == null) {
            failure = new IllegalStateException("broker '" + lease.broker() + "' is not configured on this server");
        } else {
            try {
                configured.broker().revoke(lease.toGrant());
                failure = null;
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        Instant now = clock.instant();
        try {
            if (failure == null) {
                try {
                    // group-committed with concurrent attempts; no record when someone else finished it first
                    audit.append(AuditEvent.success(ACTOR, "credential.revoke", lease.holder().toString(),
                            details(lease, Map.of("reason", lease.revocation().map(Lease.Revocation::reason).orElse("requested"),
                                    "attempts", Integer.toString(attempts(lease) + 1)))), transaction -> {
                                        if (!store.markRevoked(transaction, lease.id(), now)) {
                                            throw new NotRevoking();
                                        }
                                    });
                } catch (NotRevoking e) {
                    // already revoked by another attempt: nothing to record
                }
                return true;
            }
            int attempts = attempts(lease) + 1;
            String error = failure.getClass().getSimpleName() + ": " + dev.sigil.core.Printable.clip(String.valueOf(failure.getMessage()));
            Instant next = now.plusMillis(backoff(attempts));
            store.recordFailure(lease.id(), attempts, error, next);
            if (attempts == 1 || attempts % AUDIT_FAILURE_EVERY == 0) {
                audit.append(new AuditEvent(ACTOR, "credential.revoke_failed", lease.holder().toString(), AuditOutcome.FAILURE,
                        details(lease, Map.of("attempts", Integer.toString(attempts), "error", error, "next_attempt_at", next.toString()))));
            }
            LOG.warn("revocation of lease {} ({}) failed, attempt {}; retrying at {}: {}", lease.id(), lease.broker(), attempts, next, error);
            return false;
        } catch (RuntimeException e) {
            LOG.error("cannot record the revocation outcome of lease {}; it is retried: {}", lease.id(), e.getMessage(), e);
            return false;
        }
    }

    /** Thrown inside a transaction to roll it back: the lease is no longer revoking. */
    private static final class NotRevoking extends RuntimeException {
        NotRevoking() {
            super("lease is no longer revoking", null, false, false);
        }
    }

    /** Delay before attempt {@code failures + 1}: 1 s doubling, capped at 1 min. */
    static long backoff(int failures) {
        int shift = Math.min(Math.max(failures - 1, 0), 16);
        return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS << shift);
    }

    private static int attempts(Lease lease) {
        return lease.revocation().map(Lease.Revocation::attempts).orElse(0);
    }

    static Map<String, String> details(Lease lease, Map<String, String> extra) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("lease_id", lease.id().value());
        details.put("broker", lease.broker());
        details.put("resource", lease.resource());
        lease.task().ifPresent(t -> details.put("task", t));
        details.putAll(extra);
        return details;
    }

    /** Asks the background worker to look for due work now. */
    public void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /**
     * Starts the background thread (reaper and worker, every {@value #TICK_MS} ms or when woken);
     * closing it stops the thread. Work left undone is picked up after the next start.
     */
    public AutoCloseable start() {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sigil-lease-revoker");
            thread.setDaemon(true);
            return thread;
        });
        executor.execute(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                boolean more = false;
                try {
                    // one server reaps and retries; every server attempts the revocations it requests at once
                    if (cluster.leading().getAsBoolean()) {
                        reapExpired();
                        // a full batch that made progress may have left more due (a large revocation deferred by its
                        // request): no pause then; a pass that revoked nothing (backend or database trouble) waits
                        Pass pass = runDuePass();
                        more = pass.due() == BATCH && pass.revoked() > 0;
                    }
                } catch (RuntimeException | LinkageError | AssertionError e) {
                    // Keep the worker alive whatever a broker throws; the lease stays revoking and is retried.
                    LOG.error("lease revocation pass failed; retrying: {}", e.getMessage(), e);
                }
                try {
                    synchronized (signal) {
                        if (!more) {
                            signal.wait(TICK_MS);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return () -> {
            executor.shutdownNow();
            executor.awaitTermination(10, TimeUnit.SECONDS);
        };
    }
}
