package dev.sigil.agent.workload;

import dev.sigil.core.spiffeid.SpiffeId;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One workload process the drift monitor watches (named by the {@link PeerProcess} that connected: pid,
 * start time, executable and peer credentials): the selectors it was
 * last attested with, the SPIFFE IDs the Workload API served it since, and the streams to tell when
 * either its selectors change or it exits. Streams compute their answer from {@link #current()}, so a
 * drift applied by the monitor takes effect at the stream's next (immediately triggered) message.
 */
final class TrackedWorkload {
    private final PeerProcess key;
    // a set, not a copy-on-write list: one process may hold thousands of streams, each adding and removing one
    private final Set<Runnable> listeners = ConcurrentHashMap.newKeySet();
    private final Set<SpiffeId> served = ConcurrentHashMap.newKeySet();
    private volatile AttestedCaller current;
    private volatile Optional<Path> binary = Optional.empty();
    private volatile boolean ended;
    private final java.util.concurrent.atomic.AtomicInteger pins = new java.util.concurrent.atomic.AtomicInteger();

    TrackedWorkload(AttestedCaller caller) {
        this.key = caller.peer();
        this.current = caller;
    }

    /** Identifies one process: a recycled pid has another start time, an exec another executable. */
    PeerProcess key() {
        return key;
    }

    /** The process with the selectors of its latest attestation. */
    AttestedCaller current() {
        return current;
    }

    /** True once the process exited or its pid was reused; it is no longer tracked. */
    boolean ended() {
        return ended;
    }

    /** Records identities served to the process; they are named in a drift report if it drifts. */
    void served(Collection<SpiffeId> ids) {
        if (!ended) {
            served.addAll(ids);
        }
    }

    boolean holdsIdentity() {
        return !served.isEmpty();
    }

    /**
     * Calls and streams using this record pin it: a pinned record is never dropped as idle, so what a
     * call serves is always recorded on a tracked record. {@link DriftMonitor#release} unpins.
     */
    void pin() {
        pins.incrementAndGet();
    }

    void unpin() {
        pins.decrementAndGet();
    }

    /** Neither in use by a call or stream nor holding an identity: nothing to withdraw. */
    boolean idle() {
        return pins.get() <= 0 && served.isEmpty();
    }

    private final java.util.concurrent.atomic.AtomicBoolean exitCheckQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /** True when no exit check is queued for this process yet (and now one is); see {@link DriftMonitor#checkExitSoon}. */
    boolean queueExitCheck() {
        return exitCheckQueued.compareAndSet(false, true);
    }

    void exitCheckStarted() {
        exitCheckQueued.set(false);
    }

    /** Registers a stream to be told of drift; closing the handle unregisters it. */
    AutoCloseable onChange(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    // --- used by DriftMonitor under this object's lock ---

    Set<SpiffeId> takeServed() {
        Set<SpiffeId> held = Set.copyOf(served);
        served.removeAll(held);
        return held;
    }

    void update(AttestedCaller after) {
        current = after;
    }

    void end() {
        ended = true;
        served.clear();
    }

    Optional<Path> binary() {
        return binary;
    }

    void binary(Optional<Path> path) {
        binary = path;
    }

    void notifyListeners() {
        listeners.forEach(Runnable::run);
    }
}
