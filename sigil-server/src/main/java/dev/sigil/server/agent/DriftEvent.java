package dev.sigil.server.agent;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A workload drift an agent reported and the server accepted and audited ({@code workload.drift}).
 * The agent had already withdrawn the identities; this event is what revocation acts on.
 *
 * @param driftId    the server's id of this drift (the audit records' {@code drift_id} detail); link
 *                   revocations to it
 * @param agentId    the reporting (authenticated) agent
 * @param pid        the workload's process id on the agent's node; 0 for {@link Reason#NODE_DRIFT} (no one process)
 * @param spiffeIds  the identities the workload held; each was authorized for the agent when reported
 * @param observedAt when the agent observed the drift (the agent's clock)
 * @param recordedAt when the server recorded it (the server's clock)
 */
public record DriftEvent(String driftId, SpiffeId agentId, int pid, Set<SpiffeId> spiffeIds, Set<Selector> selectorsBefore,
                         Set<Selector> selectorsAfter, Reason reason, Instant observedAt, Instant recordedAt) {

    /** Why the workload lost its identity. */
    public enum Reason {
        /** The process exited: benign; what it held should end. */
        EXITED,
        /** The process is alive but no longer what it was attested as (binary, uid, cgroup changed). */
        SELECTORS_CHANGED,
        /**
         * The node itself is no longer what it was attested as (a TPM quote outside the PCR policy): every
         * identity served by its agent, and the agent's own, is affected.
         */
        NODE_DRIFT;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public DriftEvent {
        Objects.requireNonNull(driftId, "driftId");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(reason, "reason");
        if (reason == Reason.NODE_DRIFT ? pid != 0 : pid <= 0) {
            throw new IllegalArgumentException("drift pid is " + pid + "; it must be positive for a workload drift and 0 for node drift");
        }
        spiffeIds = Set.copyOf(spiffeIds);
        if (spiffeIds.isEmpty()) {
            throw new IllegalArgumentException("a drift event names at least one spiffe id");
        }
        selectorsBefore = Set.copyOf(selectorsBefore);
        selectorsAfter = Set.copyOf(selectorsAfter);
        Objects.requireNonNull(observedAt, "observedAt");
        Objects.requireNonNull(recordedAt, "recordedAt");
    }
}
