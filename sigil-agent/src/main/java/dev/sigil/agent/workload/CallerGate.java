package dev.sigil.agent.workload;

import dev.sigil.agent.workload.CallerAttestor.Attestation;
import dev.sigil.agent.workload.CallerAttestor.Attested;
import dev.sigil.agent.workload.CallerAttestor.Changed;
import dev.sigil.agent.workload.CallerAttestor.Refusal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attests the caller of a call on the agent's socket, for every service served there (the Workload API
 * and Envoy SDS alike), so that both hand out identities under one rule: the caller is the process that
 * opened the connection ({@link SecurityHeaderInterceptor#PEER}), checked on every call and attested in full
 * unless the drift monitor already holds its attestation ({@link #attestTracked}), and before every
 * response {@link #recheck} confirms that the pid still names that process, unchanged. Refusals are
 * PERMISSION_DENIED (final for SPIFFE clients); a caller whose /proc state cannot be read is UNAVAILABLE.
 */
final class CallerGate {
    private static final Logger LOG = LoggerFactory.getLogger(CallerGate.class);

    private final CallerAttestor attestor;

    CallerGate(CallerAttestor attestor) {
        this.attestor = attestor;
    }

    /** The current call's caller with its selectors; throws the status to end the call with otherwise. */
    AttestedCaller attest() {
        PeerProcess peer = SecurityHeaderInterceptor.PEER.get();
        Attestation attestation;
        try {
            attestation = attestor.attest(peer);
        } catch (RuntimeException e) {
            // unreadable /proc entries, or process state no selector can hold (for example a control
            // character in the binary's path): fail closed, without an identity
            LOG.warn("cannot attest workload pid {}: {}", peer.pid(), e.toString());
            throw Status.UNAVAILABLE.withDescription("cannot attest caller pid " + peer.pid() + ": " + e.getMessage()).asRuntimeException();
        }
        return switch (attestation) {
            case Attested attested -> {
                LOG.debug("attested workload pid {} uid {}: {}", peer.pid(), peer.credentials().uid(), attested.caller().selectors());
                yield attested.caller();
            }
            case Refusal refusal -> {
                if (refusal instanceof Changed changed) {
                    LOG.warn("{}; no identity issued", changed.reason());
                }
                throw refused(refusal).asRuntimeException();
            }
        };
    }

    /**
     * The current call's caller as a record of the drift monitor, pinned (the caller must
     * {@link DriftMonitor#release} it); throws the status to end the call with otherwise.
     *
     * <p>A process the monitor already tracks (same pid, start time, executable and peer credentials as
     * this connection recorded at accept) is not attested again: its record's selectors are reused after
     * {@link CallerAttestor#check} confirms, on this call, that the pid still names that process with
     * all its uids and gids equal to the peer credentials and the same executable (device and inode). The
     * record is what the process's open streams are served from; the monitor re-attests it every
     * re-attestation interval and on changes in its binary's directory. Any difference refuses the call,
     * exactly as a full attestation would; a process the monitor does not track is attested in full.
     */
    TrackedWorkload attestTracked(DriftMonitor monitor) {
        PeerProcess peer = SecurityHeaderInterceptor.PEER.get();
        Optional<TrackedWorkload> known = monitor.pinTracked(peer);
        if (known.isPresent()) {
            Optional<Refusal> refusal = attestor.check(peer);
            if (refusal.isEmpty()) {
                return known.get();
            }
            monitor.release(known.get());
            if (refusal.get() instanceof Changed changed) {
                LOG.warn("{}; no identity issued", changed.reason());
            }
            throw refused(refusal.get()).asRuntimeException();
        }
        return monitor.track(attest());
    }

    /** Why nothing may be sent to {@code workload} now: it exited, or its pid no longer names what connected. */
    Optional<Status> recheck(TrackedWorkload workload) {
        AttestedCaller caller = workload.current();
        if (workload.ended()) {
            return Optional.of(processGone(caller.peer()));
        }
        return attestor.check(caller.peer()).map(CallerGate::refused);
    }

    /** Throws PERMISSION_DENIED unless {@code caller}'s pid still names the process that connected. */
    void requireSameProcess(AttestedCaller caller) {
        Optional<Refusal> refusal = attestor.check(caller.peer());
        if (refusal.isPresent()) {
            throw refused(refusal.get()).asRuntimeException();
        }
    }

    static Status refused(Refusal refusal) {
        return Status.PERMISSION_DENIED.withDescription(refusal.reason() + "; no identity issued");
    }

    static Status processGone(PeerProcess peer) {
        return Status.PERMISSION_DENIED.withDescription("caller pid " + peer.pid()
                + " exited or its pid now names another process; no identity issued");
    }

    static Status noIdentity(AttestedCaller caller) {
        return Status.PERMISSION_DENIED.withDescription("no identity issued to caller pid " + caller.pid()
                + "; no registration entry matches its selectors");
    }
}
