package dev.sigil.agent.workload;

import dev.sigil.agent.workload.CallerAttestor.Attestation;
import dev.sigil.agent.workload.CallerAttestor.Attested;
import dev.sigil.agent.workload.CallerAttestor.Changed;
import dev.sigil.agent.workload.CallerAttestor.Gone;
import dev.sigil.agent.workload.WorkloadDrift.Reason;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous re-attestation of the workloads the Workload API serves: every process that holds an open
 * stream or was served an SVID is attested again every {@code interval}, at once when its binary's
 * directory reports a change (inotify), and when one of its streams ends (which is how an exiting
 * streaming workload is noticed).
 *
 * <p>Security property: when a tracked process's selectors differ from the ones it was attested with
 * (binary replaced or modified, uid or cgroup changed), its streams recompute their answer from the
 * new selectors immediately — they carry the identities the new selectors entitle it to, or end with
 * PERMISSION_DENIED when none — and the drift is handed to the {@link DriftSink}. When the process
 * exited or its pid was reused, its streams end (the pid guard) and, if it held an identity, an
 * {@code EXITED} drift is reported. A process whose state can no longer be read while it is alive, or
 * that is no longer what connected (its ids changed, it executed another program), is failed closed:
 * its selectors become empty, so it is served no identity.
 */
final class DriftMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DriftMonitor.class);

    private final CallerAttestor attestor;
    private final ProcFs proc;
    private final DriftSink sink;
    private final Duration interval;
    private final Clock clock;
    private final Map<PeerProcess, TrackedWorkload> tracked = new ConcurrentHashMap<>();
    private final ScheduledExecutorService checker;
    private final BinaryWatcher watcher;

    DriftMonitor(CallerAttestor attestor, ProcFs proc, DriftSink sink, Duration interval, Clock clock) {
        this.attestor = attestor;
        this.proc = proc;
        this.sink = sink;
        this.interval = interval;
        this.clock = clock;
        this.checker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sigil-workload-reattest");
            thread.setDaemon(true);
            return thread;
        });
        this.watcher = new BinaryWatcher(this::binaryChanged);
        long millis = interval.toMillis();
        checker.scheduleWithFixedDelay(this::checkAll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts tracking a freshly attested caller, or returns the process's existing record, pinned: the
     * caller must {@link #release} it when its call or stream ends. When the fresh attestation differs
     * from the record's, that is a drift and is applied before returning, so the caller is served from
     * its current selectors.
     */
    TrackedWorkload track(AttestedCaller fresh) {
        PeerProcess key = fresh.peer();
        boolean[] created = {false};
        TrackedWorkload workload = tracked.compute(key, (k, existing) -> {
            TrackedWorkload record = existing;
            if (record == null || record.ended()) {
                record = new TrackedWorkload(fresh);
                created[0] = true;
            }
            record.pin();
            return record;
        });
        if (created[0]) {
            synchronized (workload) {
                if (!workload.ended()) { // forget() unwatches under the same lock
                    workload.binary(binaryOf(fresh.peer().pid()));
                    workload.binary().ifPresent(watcher::watch);
                }
            }
        }
        if (!workload.current().selectors().equals(fresh.selectors())) {
            apply(workload, Optional.of(fresh));
        }
        return workload;
    }

    /**
     * The live record of {@code peer} (the same pid, start time, executable and peer credentials), pinned,
     * when the monitor tracks it: its selectors are those of its latest attestation, which the monitor
     * renews every {@code interval} and on binary changes, exactly what its open streams are served from.
     * The caller must {@link #release} it, and must first have checked that the pid still names
     * {@code peer} unchanged ({@link CallerAttestor#check}).
     */
    Optional<TrackedWorkload> pinTracked(PeerProcess peer) {
        TrackedWorkload[] pinned = {null};
        tracked.computeIfPresent(peer, (k, record) -> {
            if (!record.ended()) {
                record.pin();
                pinned[0] = record;
            }
            return record;
        });
        return Optional.ofNullable(pinned[0]);
    }

    /** Unpins a record {@link #track} or {@link #pinTracked} returned. */
    void release(TrackedWorkload workload) {
        workload.unpin();
    }

    /** Re-attests {@code workload} soon, on the monitor's thread (for example after one of its streams ended). */
    void checkSoon(TrackedWorkload workload) {
        try {
            checker.execute(() -> check(workload));
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /**
     * Finds out soon, on the monitor's thread, whether {@code workload}'s process exited (its pid no
     * longer names a process with its start time); for when one of its streams ended, which is what an
     * exiting streaming workload does. Only liveness is read (one {@code stat} file), not a full
     * re-attestation: a client that opens and cancels streams in a loop must not cost an attestation
     * per stream. Drift is the interval's and the binary watcher's concern. Requests for one workload
     * made while one is queued are coalesced.
     */
    void checkExitSoon(TrackedWorkload workload) {
        if (!workload.queueExitCheck()) {
            return;
        }
        try {
            checker.execute(() -> {
                workload.exitCheckStarted();
                PeerProcess key = workload.key();
                if (!workload.ended() && !proc.startTime(key.pid()).equals(Optional.of(key.startTime()))) {
                    apply(workload, Optional.empty());
                }
            });
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    int trackedCount() {
        return tracked.size();
    }

    int watchedDirectories() {
        return watcher.watchedDirectories();
    }

    private void binaryChanged(Optional<Path> binary) {
        for (TrackedWorkload workload : tracked.values()) {
            if (binary.isEmpty() || workload.binary().equals(binary)) {
                checkSoon(workload);
            }
        }
    }

    private void checkAll() {
        for (TrackedWorkload workload : tracked.values()) {
            try {
                check(workload);
                forgetIfIdle(workload);
            } catch (RuntimeException e) {
                LOG.warn("re-attestation of workload pid {} failed: {}", workload.key().pid(), e.toString());
            }
        }
        passes.incrementAndGet();
    }

    /** How many periodic re-attestation passes over every tracked workload have completed. */
    long passes() {
        return passes.get();
    }

    private final java.util.concurrent.atomic.AtomicLong passes = new java.util.concurrent.atomic.AtomicLong();

    private void check(TrackedWorkload workload) {
        if (workload.ended()) {
            return;
        }
        PeerProcess key = workload.key();
        Optional<AttestedCaller> fresh;
        try {
            Attestation attestation = attestor.attest(key);
            fresh = switch (attestation) {
                case Attested attested -> Optional.of(attested.caller());
                case Gone gone -> Optional.empty();
                case Changed changed -> {
                    if (!workload.current().selectors().isEmpty()) {
                        LOG.warn("{}; withdrawing its identity", changed.reason());
                    }
                    yield Optional.of(new AttestedCaller(key, Set.of()));
                }
            };
        } catch (RuntimeException e) {
            if (!proc.startTime(key.pid()).equals(Optional.of(key.startTime()))) {
                fresh = Optional.empty();
            } else {
                LOG.warn("cannot re-attest workload pid {}: {}; withdrawing its identity", key.pid(), e.toString());
                fresh = Optional.of(new AttestedCaller(key, Set.of()));
            }
        }
        apply(workload, fresh);
    }

    /** Applies a re-attestation: {@code after} empty means the process is gone. */
    private void apply(TrackedWorkload workload, Optional<AttestedCaller> after) {
        WorkloadDrift drift = null;
        synchronized (workload) {
            if (workload.ended()) {
                return;
            }
            PeerProcess key = workload.key();
            Set<Selector> before = workload.current().selectors();
            if (after.isEmpty()) {
                Set<SpiffeId> held = workload.takeServed();
                forget(workload);
                workload.notifyListeners();
                LOG.debug("workload pid {} exited", key.pid());
                if (!held.isEmpty()) {
                    drift = new WorkloadDrift(key.pid(), key.startTime(), held, before, Set.of(), Reason.EXITED, clock.instant());
                }
            } else if (!after.get().selectors().equals(before)) {
                Set<SpiffeId> held = workload.takeServed();
                workload.update(after.get());
                Optional<Path> binary = binaryOf(key.pid());
                if (!binary.equals(workload.binary())) {
                    workload.binary().ifPresent(watcher::unwatch);
                    binary.ifPresent(watcher::watch);
                    workload.binary(binary);
                }
                workload.notifyListeners();
                LOG.warn("workload pid {} drifted: selectors {} -> {}; identities {} withdrawn", key.pid(),
                        new java.util.TreeSet<>(before), new java.util.TreeSet<>(after.get().selectors()), held);
                if (!held.isEmpty()) {
                    drift = new WorkloadDrift(key.pid(), key.startTime(), held, before, after.get().selectors(),
                            Reason.SELECTORS_CHANGED, clock.instant());
                }
            }
        }
        if (drift != null) {
            try {
                sink.drifted(drift);
            } catch (RuntimeException e) {
                LOG.warn("drift sink failed for pid {}: {}", drift.pid(), e.toString());
            }
        }
    }

    /** Drops a record no call or stream uses and that holds no identity: nothing to withdraw any more. */
    private void forgetIfIdle(TrackedWorkload workload) {
        boolean[] dropped = {false};
        tracked.computeIfPresent(workload.key(), (k, record) -> {
            if (record == workload && !record.ended() && record.idle()) {
                dropped[0] = true;
                return null;
            }
            return record;
        });
        if (dropped[0]) {
            forget(workload);
        }
    }

    private void forget(TrackedWorkload workload) {
        synchronized (workload) {
            if (tracked.remove(workload.key(), workload)) {
                workload.binary().ifPresent(watcher::unwatch);
            }
            workload.end();
        }
    }

    /** The running binary's path, when readable and not deleted. */
    private Optional<Path> binaryOf(int pid) {
        try {
            String target = Files.readSymbolicLink(proc.pidDir(pid).resolve("exe")).toString();
            return target.endsWith(" (deleted)") ? Optional.empty() : Optional.of(Path.of(target));
        } catch (IOException | UnsupportedOperationException | java.nio.file.InvalidPathException e) {
            return Optional.empty();
        }
    }

    Duration interval() {
        return interval;
    }

    @Override
    public void close() {
        checker.shutdownNow();
        watcher.close();
        tracked.clear();
    }
}
