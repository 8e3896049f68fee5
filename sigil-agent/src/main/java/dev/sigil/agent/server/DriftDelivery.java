package dev.sigil.agent.server;

/** How one attempt to report a workload drift to the server ended. */
public sealed interface DriftDelivery {

    /** The server recorded the drift under {@code driftId}. */
    record Acked(String driftId) implements DriftDelivery {}

    /** The server refused the report for good (malformed, or naming identities the agent may not serve): do not retry. */
    record Refused(String reason) implements DriftDelivery {}

    /** The server could not be reached or could not record it now: retry later with the same report id. */
    record Failed(String reason) implements DriftDelivery {}
}
