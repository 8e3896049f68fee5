package dev.sigil.server.agent.attestor;

/**
 * The server side of one node attestation method ({@code join_token}, {@code x509pop}, ...): it
 * verifies the evidence an agent opens with, may challenge the agent for proof of possession, and
 * ends in an {@link AttestationStep.Attested} verdict or a refusal.
 *
 * <p>Contract, checked for every implementation by one shared contract test:
 * <ul>
 *   <li>Good evidence (and good answers to every challenge) attests, with an agent SPIFFE ID in the
 *       server's trust domain under {@code /sigil/agent/<type>/}, selectors of this attestor's type and
 *       a trust level.
 *   <li>Evidence or answers that were already used (replay) and tampered evidence never attest.
 *   <li>Refusal reasons and {@code toString()} never contain secret material (a token, a key).
 *   <li>Implementations are thread-safe; each {@link #begin} call is one independent attempt.
 * </ul>
 */
public interface NodeAttestor {
    /** The attestor type, identical to the agent side's, for example {@code join_token}. */
    String type();

    /**
     * Opens an attempt with the agent's evidence.
     *
     * @param actor who presents the evidence (for example the agent's network address), for the audit trail
     */
    AttestationStep begin(byte[] evidence, String actor);
}
