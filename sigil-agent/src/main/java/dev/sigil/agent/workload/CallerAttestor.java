package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Attests the process behind a connection, guarding against pid reuse.
 *
 * <p>Security property: the selectors returned describe the process that opened the connection, or
 * nothing at all. The process's start time is read before any attestor runs and compared after all of
 * them ran; {@link #stillSame} repeats the comparison before every response. If the process exited, or
 * its pid now names another process (different start time), the caller is refused: a process that
 * inherits a recycled pid never receives the identity of the pid's previous owner.
 */
final class CallerAttestor {
    private final ProcFs proc;
    private final List<WorkloadAttestor> attestors;

    CallerAttestor(ProcFs proc, List<WorkloadAttestor> attestors) {
        this.proc = proc;
        this.attestors = List.copyOf(attestors);
    }

    /** The attested caller; empty when the process is gone or its pid was reused during attestation. */
    Optional<AttestedCaller> attest(PeerCredentials peer) {
        Optional<Long> before = proc.startTime(peer.pid());
        if (before.isEmpty()) {
            return Optional.empty();
        }
        Set<Selector> selectors = new HashSet<>();
        try {
            for (WorkloadAttestor attestor : attestors) {
                selectors.addAll(attestor.attest(peer.pid()));
            }
        } catch (WorkloadAttestationException e) {
            // a process that exits mid-attestation looks like an unreadable /proc entry
            if (!before.equals(proc.startTime(peer.pid()))) {
                return Optional.empty();
            }
            throw e;
        }
        if (!before.equals(proc.startTime(peer.pid()))) {
            return Optional.empty();
        }
        return Optional.of(new AttestedCaller(peer, before.get(), selectors));
    }

    /** True while the caller's pid still names the process that was attested. */
    boolean stillSame(AttestedCaller caller) {
        return proc.startTime(caller.peer().pid()).equals(Optional.of(caller.startTime()));
    }
}
