package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.nio.file.Path;
import java.util.Set;

/**
 * Turns a caller's pid into the selectors that registration entries match on. Every attestor reads
 * the process's state from the kernel (procfs), never from anything the workload sends.
 *
 * <p>The caller of {@link #attest} guards against pid reuse (it checks the process start time before
 * and after); an attestor only reports what the process at {@code pid} looks like now. Implementations
 * are thread-safe.
 */
public interface WorkloadAttestor {

    /** The selector type this attestor vouches for, e.g. {@code unix}. */
    String type();

    /**
     * The selectors of process {@code pid}, all of type {@link #type()}.
     *
     * @throws WorkloadAttestationException when the process is gone or its state cannot be read
     */
    Set<Selector> attest(int pid);

    /**
     * The {@code unix} attestor: {@code uid}, {@code user}, {@code gid}, {@code group},
     * {@code supplementary_gid}, {@code path} and {@code sha256} of the binary.
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
