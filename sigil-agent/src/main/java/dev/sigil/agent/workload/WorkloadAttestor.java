package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.nio.file.Path;
import java.util.Set;

/**
 * Turns a caller into the selectors that registration entries match on. Every attestor reads the
 * process's state from the kernel (the connection's peer credentials, procfs), never from anything the
 * workload sends.
 *
 * <p>The caller of {@link #attest} guards against pid reuse and against a process that changed since it
 * connected (it checks start time, ids and executable before and after); an attestor only reports what
 * the process at the peer's pid looks like now. Identity that the peer credentials carry (uid, gid) must
 * be taken from them, not from procfs. Implementations are thread-safe.
 */
public interface WorkloadAttestor {

    /** The selector type this attestor vouches for, e.g. {@code unix}. */
    String type();

    /**
     * The selectors of the process {@code peer} names, all of type {@link #type()}.
     *
     * @throws WorkloadAttestationException when the process is gone or its state cannot be read
     */
    Set<Selector> attest(PeerCredentials peer);

    /**
     * The {@code unix} attestor: {@code uid}, {@code user}, {@code gid}, {@code group} (from the peer
     * credentials), {@code supplementary_gid}, {@code path} and {@code sha256} of the binary.
     *
     * @param procRoot the procfs root, normally {@code /proc}
     * @param etcRoot  where {@code passwd} and {@code group} are read, normally {@code /etc}
     */
    static WorkloadAttestor unix(Path procRoot, Path etcRoot) {
        return new UnixWorkloadAttestor(new ProcFs(procRoot), etcRoot);
    }

    /** The {@code cgroup} attestor: {@code path} of each cgroup and {@code container_id} when one shows. */
    static WorkloadAttestor cgroup(Path procRoot) {
        return new CgroupWorkloadAttestor(new ProcFs(procRoot));
    }
}
