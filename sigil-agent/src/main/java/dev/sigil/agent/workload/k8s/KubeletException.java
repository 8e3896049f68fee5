package dev.sigil.agent.workload.k8s;

import dev.sigil.agent.workload.WorkloadAttestationException;

/**
 * The kubelet could not be asked or its answer could not be used (unreachable, unverified, refused the
 * agent's credentials, answered too much or not a pod list). The message names the kubelet address and
 * what to check; it never holds the bearer token.
 */
final class KubeletException extends WorkloadAttestationException {
    KubeletException(String message) {
        super(message);
    }

    KubeletException(String message, Throwable cause) {
        super(message, cause);
    }
}
