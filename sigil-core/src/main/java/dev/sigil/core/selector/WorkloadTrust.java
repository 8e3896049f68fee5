package dev.sigil.core.selector;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * How strongly each workload attestor vouches for its selectors, on the trust-level scale (0 none, 1
 * platform or orchestration metadata, 2 verified evidence, 3 hardware-rooted). A workload's effective
 * level is the lower of its node's and its workload attestation's (see docs/policy.md, layered trust).
 * <ul>
 *   <li>{@code unix:sha256:<digest>} — 3: the entry pins the exact binary, measured by the agent from the
 *       kernel's view of the process. Worth 3 only where the agent's own integrity is hardware-rooted: the
 *       effective level is the lower of this and the node's, so on a join-token node it is 1 and on a
 *       TPM-attested node (whose quoted boot state covers the agent) 3.</li>
 *   <li>{@code unix} (any other) — 2: uid and gid are the kernel's peer credentials of the connection and the
 *       binary's sha256 is computed by the agent; nothing comes from the workload, and the caller is
 *       re-checked against pid reuse, id changes and exec.</li>
 *   <li>{@code k8s} — 2: orchestration metadata, but read from the kubelet over TLS verified against the
 *       configured CA with the agent's own credentials, keyed by the kernel's cgroup of the caller.</li>
 *   <li>{@code cgroup} — 1: a cgroup path is kernel state, but a process with a delegated cgroup subtree
 *       can create and enter a cgroup of any name, so a container id in a path is a label, not proof.</li>
 * </ul>
 * A selector type not listed (an attestor the server does not know) counts as 1, metadata only.
 */
public final class WorkloadTrust {
    /** The level of a selector type this table does not grade. */
    public static final int UNGRADED = 1;

    private static final Map<String, Integer> LEVELS = Map.of("unix", 2, "k8s", 2, "cgroup", 1);

    private WorkloadTrust() {
    }

    /** The level of the attestor that vouches for selectors of {@code type}, when this table grades it. */
    public static Optional<Integer> graded(String type) {
        return Optional.ofNullable(LEVELS.get(type));
    }

    /**
     * The level of the workload attestation an entry with {@code selectors} requires: the highest level
     * among its selector types (every selector must match, so the strongest attestor involved vouched for
     * the workload); 0 for no selectors.
     */
    public static int of(Collection<Selector> selectors) {
        int level = 0;
        for (Selector selector : selectors) {
            level = Math.max(level, of(selector));
        }
        return level;
    }

    /** The level one selector vouches for: its attestor's, or 3 for a pinned binary digest ({@code unix:sha256:...}). */
    public static int of(Selector selector) {
        if (selector.type().equals("unix") && selector.value().startsWith("sha256:")) {
            return PINNED_BINARY;
        }
        return graded(selector.type()).orElse(UNGRADED);
    }

    /** The level of an entry that pins the workload's binary by digest. */
    public static final int PINNED_BINARY = 3;

    /** The selector types of {@code selectors} that decide {@link #of}, for messages: "k8s", "unix, k8s". */
    public static String strongestTypes(Collection<Selector> selectors) {
        int level = of(selectors);
        return String.join(", ", selectors.stream().filter(selector -> of(selector) == level)
                .map(selector -> of(selector) == PINNED_BINARY && selector.type().equals("unix") ? "unix:sha256" : selector.type())
                .distinct().sorted().toList());
    }
}
