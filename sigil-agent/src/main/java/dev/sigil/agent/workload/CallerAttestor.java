package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Attests the process behind a connection, guarding against pid reuse and against a process that is
 * no longer what connected.
 *
 * <p>Security property: the selectors returned describe the process that opened the connection, as it
 * was then, or nothing at all. Its uid and gid are the kernel's peer credentials, captured at
 * {@code connect()}; nothing identity-bearing is taken from {@code /proc} alone. {@link #check} runs
 * before any attestor, again after all of them, and before every response, and refuses the caller when
 * <ul>
 *   <li>the pid names no process or another process than the one that connected (start time), or</li>
 *   <li>any of the process's real, effective, saved and filesystem uids or gids differs from the peer
 *       credentials (a setuid or setgid program was executed, or the process changed its ids), or</li>
 *   <li>the process runs another executable (device and inode) than when the connection was accepted
 *       (it called {@code exec}), or</li>
 *   <li>any of this cannot be read: the check fails closed.</li>
 * </ul>
 * A process that inherits a connection (or a recycled pid) therefore never receives the identity of the
 * program that now runs under the connecting pid.
 */
final class CallerAttestor {
    private final ProcFs proc;
    private final List<WorkloadAttestor> attestors;

    CallerAttestor(ProcFs proc, List<WorkloadAttestor> attestors) {
        this.proc = proc;
        this.attestors = List.copyOf(attestors);
    }

    /** The outcome of an attestation. */
    sealed interface Attestation permits Attested, Refusal {}

    record Attested(AttestedCaller caller) implements Attestation {}

    /** Why a caller gets no identity; {@link #reason} names the pid and what changed. */
    sealed interface Refusal extends Attestation permits Gone, Changed {
        String reason();
    }

    /** The process exited, or its pid now names a later process: nothing is left to attest. */
    record Gone(String reason) implements Refusal {}

    /** The process is alive but no longer what connected (ids, executable), or cannot be inspected. */
    record Changed(String reason) implements Refusal {}

    /**
     * Attests {@code peer}: its selectors when {@link #check} passes before and after every attestor ran.
     *
     * @throws WorkloadAttestationException when an attestor cannot read the (unchanged) process's state
     */
    Attestation attest(PeerProcess peer) {
        Optional<Refusal> before = check(peer);
        if (before.isPresent()) {
            return before.get();
        }
        Set<Selector> selectors = new HashSet<>();
        try {
            for (WorkloadAttestor attestor : attestors) {
                selectors.addAll(attestor.attest(peer.credentials()));
            }
        } catch (WorkloadAttestationException e) {
            // a process that exits or changes mid-attestation looks like an unreadable /proc entry
            Optional<Refusal> after = check(peer);
            if (after.isPresent()) {
                return after.get();
            }
            throw e;
        }
        Optional<Refusal> after = check(peer);
        if (after.isPresent()) {
            return after.get();
        }
        return new Attested(new AttestedCaller(peer, selectors));
    }

    /** Empty while the caller's pid still names the connected process, unchanged; otherwise why not. */
    Optional<Refusal> check(PeerProcess peer) {
        int pid = peer.pid();
        if (!sameProcess(peer)) {
            return Optional.of(gone(pid));
        }
        Optional<Refusal> changed = changedIds(peer).or(() -> changedExecutable(peer));
        if (!sameProcess(peer)) {
            return Optional.of(gone(pid)); // what was read may belong to a later process
        }
        return changed;
    }

    /**
     * The process {@code pid} names now, with credentials from its {@code /proc} status, for a process
     * the agent watches without a connection; empty when it is gone, cannot be inspected, or its real,
     * effective, saved and filesystem ids are not all equal (no single identity to vouch for).
     */
    Optional<PeerProcess> observe(int pid) {
        try {
            Optional<ProcessImage> image = proc.image(pid);
            if (image.isEmpty()) {
                return Optional.empty();
            }
            long[] uids = ids(pid, "Uid:");
            long[] gids = ids(pid, "Gid:");
            if (Arrays.stream(uids).distinct().count() != 1 || Arrays.stream(gids).distinct().count() != 1) {
                return Optional.empty();
            }
            PeerProcess peer = new PeerProcess(new PeerCredentials(pid, uids[0], gids[0]), image.get());
            return check(peer).isEmpty() ? Optional.of(peer) : Optional.empty();
        } catch (WorkloadAttestationException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private boolean sameProcess(PeerProcess peer) {
        return proc.startTime(peer.pid()).equals(Optional.of(peer.startTime()));
    }

    private Optional<Refusal> changedIds(PeerProcess peer) {
        long[] uids;
        long[] gids;
        try {
            List<String> status = proc.lines(peer.pid(), "status"); // one read for both lines
            uids = ids(peer.pid(), status, "Uid:");
            gids = ids(peer.pid(), status, "Gid:");
        } catch (WorkloadAttestationException e) {
            return Optional.of(changed(peer.pid(), "cannot be inspected (" + e.getMessage() + ")"));
        }
        PeerCredentials credentials = peer.credentials();
        if (Arrays.stream(uids).anyMatch(id -> id != credentials.uid())) {
            return Optional.of(changed(peer.pid(), "runs with real, effective, saved and filesystem uids " + spaced(uids)
                    + " but connected as uid " + credentials.uid() + "; a process whose uids changed since it connected"
                    + " (for example by executing a setuid program) is refused"));
        }
        if (Arrays.stream(gids).anyMatch(id -> id != credentials.gid())) {
            return Optional.of(changed(peer.pid(), "runs with real, effective, saved and filesystem gids " + spaced(gids)
                    + " but connected as gid " + credentials.gid() + "; a process whose gids changed since it connected"
                    + " (for example by executing a setgid program) is refused"));
        }
        return Optional.empty();
    }

    private Optional<Refusal> changedExecutable(PeerProcess peer) {
        ProcessImage.Executable now;
        try {
            now = proc.executable(peer.pid());
        } catch (WorkloadAttestationException e) {
            return Optional.of(changed(peer.pid(), "cannot be inspected (" + e.getMessage() + ")"));
        }
        if (!now.equals(peer.image().executable())) {
            return Optional.of(changed(peer.pid(), "runs another executable than when it connected (it called exec);"
                    + " a process must connect again after exec"));
        }
        return Optional.empty();
    }

    /** The four ids (real, effective, saved, filesystem) of the status line starting with {@code field}. */
    private long[] ids(int pid, String field) {
        return ids(pid, proc.lines(pid, "status"), field);
    }

    private static long[] ids(int pid, List<String> status, String field) {
        for (String line : status) {
            if (line.startsWith(field)) {
                String[] values = line.substring(field.length()).trim().split("\\s+");
                if (values.length != 4) {
                    throw new WorkloadAttestationException("status of pid " + pid + " has " + values.length + " values in its '"
                            + field + "' line; real, effective, saved and filesystem ids are expected");
                }
                long[] ids = new long[4];
                for (int i = 0; i < 4; i++) {
                    try {
                        ids[i] = Long.parseLong(values[i]);
                    } catch (NumberFormatException e) {
                        throw new WorkloadAttestationException("status of pid " + pid + " has id '" + values[i] + "' in its '"
                                + field + "' line; expected a non-negative number", e);
                    }
                }
                return ids;
            }
        }
        throw new WorkloadAttestationException("status of pid " + pid + " has no '" + field + "' line");
    }

    private static String spaced(long[] ids) {
        return String.join(" ", Arrays.stream(ids).mapToObj(Long::toString).toList());
    }

    private static Gone gone(int pid) {
        return new Gone("caller pid " + pid + " exited or its pid now names another process");
    }

    private static Changed changed(int pid, String what) {
        return new Changed("caller pid " + pid + " " + what);
    }
}
