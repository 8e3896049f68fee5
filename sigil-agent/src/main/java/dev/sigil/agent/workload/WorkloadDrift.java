package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A workload that stopped being what it was attested as, observed by the agent's re-attestation.
 * Carries the evidence: the process (pid and start time), the SPIFFE IDs it had been served, and its
 * selectors before and after ({@code after} is empty for {@link Reason#EXITED}).
 *
 * @param spiffeIdsBefore the identities the agent had served to this process (never empty: a process
 *                        that held no identity has nothing to revoke and is not reported)
 */
public record WorkloadDrift(int pid, long startTime, Set<SpiffeId> spiffeIdsBefore, Set<Selector> selectorsBefore,
                            Set<Selector> selectorsAfter, Reason reason, Instant observedAt) {

    /** Why the identity was withdrawn. */
    public enum Reason {
        /** The process exited (or its pid now names another process): benign, but what it held should end. */
        EXITED,
        /** The process is alive but its selectors changed: binary replaced or modified, uid or cgroup changed. */
        SELECTORS_CHANGED
    }

    public WorkloadDrift {
        if (pid <= 0) {
            throw new IllegalArgumentException("drift pid is " + pid + "; it must be positive");
        }
        spiffeIdsBefore = Set.copyOf(spiffeIdsBefore);
        if (spiffeIdsBefore.isEmpty()) {
            throw new IllegalArgumentException("a drift report names at least one spiffe id the workload held");
        }
        selectorsBefore = Set.copyOf(selectorsBefore);
        selectorsAfter = Set.copyOf(selectorsAfter);
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(observedAt, "observedAt");
        if (reason == Reason.EXITED && !selectorsAfter.isEmpty()) {
            throw new IllegalArgumentException("an exited workload has no selectors after; got " + selectorsAfter);
        }
    }
}
