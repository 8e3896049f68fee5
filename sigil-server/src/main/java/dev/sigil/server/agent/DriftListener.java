package dev.sigil.server.agent;

/**
 * The server's hook for workload drift: called once per accepted drift report, after its
 * {@code workload.drift} audit records are committed (so the audit trail already names the drift id a
 * revocation should link to). Wired in {@code SigilServer}; the default does nothing beyond the audit.
 *
 * <p>Contract: called on the agent API's request thread; implementations should hand the event to
 * durable work (record a revocation, then carry it out) and return quickly. An exception is logged and
 * does not fail the agent's report (the drift is already on the record); a retried report with the same
 * report id is not delivered twice while the server remembers the id (see {@link DriftReports}).
 */
@FunctionalInterface
public interface DriftListener {
    void onDrift(DriftEvent event);

    /** Audits only; no revocation. */
    static DriftListener none() {
        return event -> { };
    }
}
