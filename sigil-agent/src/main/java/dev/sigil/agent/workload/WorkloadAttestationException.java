package dev.sigil.agent.workload;

import dev.sigil.core.SigilException;

/** A workload could not be attested: its process is gone or its /proc entries could not be read. */
public class WorkloadAttestationException extends SigilException {
    public WorkloadAttestationException(String message) {
        super(message);
    }

    public WorkloadAttestationException(String message, Throwable cause) {
        super(message, cause);
    }
}
