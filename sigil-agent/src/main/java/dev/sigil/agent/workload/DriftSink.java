package dev.sigil.agent.workload;

/**
 * Where the Workload API's drift monitor sends the drifts it observes (the agent reports them to the
 * server). Called on the monitor's thread after the identity was already withdrawn from the workload:
 * implementations must not block (queue and return) and must not throw.
 */
@FunctionalInterface
public interface DriftSink {
    void drifted(WorkloadDrift drift);

    /** Drops every drift; for a Workload API without a server to report to. */
    static DriftSink discard() {
        return drift -> { };
    }
}
