package dev.sigil.server.authority;

import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagerException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when authorities change state, and changes them through the {@link Journal}. Time comes
 * only from the injected clock.
 *
 * <p>For the active authority of a kind, with lifetime {@code L = notAfter - notBefore}:
 * <ul>
 *   <li>at {@code notBefore + L/2} the next authority is <b>prepared</b>: created and published in the
 *       bundle, so relying parties learn it well before anything is signed with it;</li>
 *   <li>at {@code notBefore + 5L/6} the prepared authority is <b>activated</b> and the old one
 *       <b>retired</b>; the retired one stays in the bundle because SVIDs it signed are still valid;</li>
 *   <li>at an authority's {@code notAfter} it is <b>pruned</b>: removed from the bundle and its key
 *       deleted. Every SVID it signed has expired by then, since SVID lifetimes are capped by it.</li>
 * </ul>
 * When no authority of a kind is active (first start, or every one expired while the server was
 * stopped) the prepared one is activated, or a new one is prepared and activated at once.
 *
 * <p>Several servers on one datastore each rotate their own authorities (the {@code owner}) by these
 * rules, and only theirs: no server ever needs another's private key. Any server prunes any expired
 * authority (deleting the key only of its own). A server joining a trust domain whose other servers
 * already sign publishes its first authority and activates it only {@code joinDelay} later, so that
 * the other servers' bundles and their agents learn it before anything it signs reaches a peer.
 */
final class Rotator {
    private static final Logger LOG = LoggerFactory.getLogger(Rotator.class);
    private static final int MAX_STEPS_PER_KIND = 8;

    /** One change to make. */
    sealed interface Step {
        record Prepare(AuthorityKind kind) implements Step {}

        record Activate(AuthorityRecord prepared, Optional<AuthorityRecord> active) implements Step {}

        record Prune(AuthorityRecord record) implements Step {}
    }

    private final Journal journal;
    private final AuthorityFactory factory;
    private final KeyManager keys;
    private final Clock clock;
    private final RotationListener listener;
    private final String owner;
    private final Duration joinDelay;

    Rotator(Journal journal, AuthorityFactory factory, KeyManager keys, Clock clock, RotationListener listener, String owner,
            Duration joinDelay) {
        this.owner = owner;
        this.joinDelay = joinDelay;
        this.journal = journal;
        this.factory = factory;
        this.keys = keys;
        this.clock = clock;
        this.listener = listener;
    }

    static Instant prepareAt(AuthorityRecord active) {
        return active.notBefore().plus(active.lifetime().dividedBy(2));
    }

    static Instant activateAt(AuthorityRecord active) {
        Duration lifetime = active.lifetime();
        return active.notBefore().plus(lifetime.minus(lifetime.dividedBy(6)));
    }

    /**
     * The next change for {@code kind} of {@code owner}'s authorities given the current (unpruned) journal,
     * if any is due at {@code now}; expired authorities of any owner are pruned.
     */
    static Optional<Step> next(AuthorityKind kind, List<AuthorityRecord> current, Instant now, String owner, Duration joinDelay) {
        List<AuthorityRecord> ofKind = current.stream().filter(record -> record.kind() == kind).toList();
        for (AuthorityRecord record : ofKind) {
            if (record.expiredAt(now)) {
                return Optional.of(new Step.Prune(record));
            }
        }
        List<AuthorityRecord> own = ofKind.stream().filter(record -> record.owner().equals(owner)).toList();
        Optional<AuthorityRecord> active = inState(own, AuthorityState.ACTIVE);
        Optional<AuthorityRecord> prepared = inState(own, AuthorityState.PREPARED);
        if (active.isEmpty()) {
            if (prepared.isEmpty()) {
                return Optional.of(new Step.Prepare(kind));
            }
            boolean othersSign = ofKind.stream().anyMatch(record -> !record.owner().equals(owner) && record.state() == AuthorityState.ACTIVE);
            if (othersSign && now.isBefore(prepared.get().createdAt().plus(joinDelay))) {
                return Optional.empty(); // joining: published first, signing once the others have had time to learn it
            }
            return Optional.of(new Step.Activate(prepared.get(), Optional.empty()));
        }
        if (prepared.isEmpty() && !now.isBefore(prepareAt(active.get()))) {
            return Optional.of(new Step.Prepare(kind));
        }
        if (prepared.isPresent() && !now.isBefore(activateAt(active.get()))) {
            return Optional.of(new Step.Activate(prepared.get(), active));
        }
        return Optional.empty();
    }

    /** Until when this server waits, joining, before it activates its first authority of a kind (empty: not waiting). */
    Optional<Instant> joiningUntil(List<AuthorityRecord> current) {
        for (AuthorityKind kind : AuthorityKind.values()) {
            List<AuthorityRecord> own = current.stream().filter(r -> r.kind() == kind && r.owner().equals(owner)).toList();
            Optional<AuthorityRecord> prepared = inState(own, AuthorityState.PREPARED);
            if (inState(own, AuthorityState.ACTIVE).isEmpty() && prepared.isPresent()) {
                return Optional.of(prepared.get().createdAt().plus(joinDelay));
            }
        }
        return Optional.empty();
    }

    /** Makes every change that is due now; returns true when the journal changed. */
    boolean tick() {
        boolean changed = false;
        for (AuthorityKind kind : AuthorityKind.values()) {
            int steps = 0;
            Optional<Step> step;
            while ((step = next(kind, journal.current(), clock.instant(), owner, joinDelay)).isPresent()) {
                if (++steps > MAX_STEPS_PER_KIND) {
                    LOG.error("{} authority rotation did not settle after {} steps; will retry at the next tick", kind.storedName(), steps - 1);
                    break;
                }
                try {
                    apply(step.get());
                    changed = true;
                } catch (Journal.Conflict e) {
                    LOG.info("{} authority rotation raced with another server ({}); re-reading the journal", kind.storedName(), e.getMessage());
                }
            }
        }
        return changed;
    }

    private void apply(Step step) {
        Instant now = clock.instant();
        switch (step) {
            case Step.Prepare prepare -> {
                AuthorityRecord record = factory.create(prepare.kind(), now, owner);
                long sequence;
                try {
                    sequence = journal.insertPrepared(record, now);
                } catch (RuntimeException e) {
                    deleteKey(record);
                    throw e;
                }
                publish(new RotationEvent.Prepared(record.kind(), record.authorityId(), record.keyId(), record.notBefore(),
                        record.notAfter(), sequence, now));
            }
            case Step.Activate activate -> {
                journal.activate(activate.prepared(), activate.active(), now);
                activate.active().ifPresent(old ->
                        publish(new RotationEvent.Retired(old.kind(), old.authorityId(), old.notAfter(), now)));
                publish(new RotationEvent.Activated(activate.prepared().kind(), activate.prepared().authorityId(), now));
            }
            case Step.Prune prune -> {
                long sequence = journal.prune(prune.record(), now);
                if (prune.record().owner().equals(owner)) {
                    deleteKey(prune.record());
                }
                publish(new RotationEvent.Pruned(prune.record().kind(), prune.record().authorityId(), sequence, now));
            }
        }
    }

    private void deleteKey(AuthorityRecord record) {
        try {
            keys.delete(record.keyId());
        } catch (KeyManagerException e) {
            LOG.warn("cannot delete key '{}' of {} authority {}: {}", record.keyId(), record.kind().storedName(),
                    record.authorityId(), e.getMessage());
        }
    }

    private void publish(RotationEvent event) {
        LOG.info("authority rotation: {}", event);
        try {
            listener.onRotation(event);
        } catch (RuntimeException e) {
            LOG.error("rotation listener failed on {}: {}", event, e.toString(), e);
        }
    }

    private static Optional<AuthorityRecord> inState(List<AuthorityRecord> records, AuthorityState state) {
        return records.stream().filter(record -> record.state() == state).findFirst();
    }
}
