package dev.sigil.agent.attestor;

import java.time.Duration;

/**
 * Evidence a node attestor keeps renewing while the agent runs (tpm: a fresh quote every interval).
 * The agent asks the server for a challenge every {@link #interval()} and sends {@link #answer}'s
 * result; a refusal means the node drifted or the server lost its attestation, and the agent attests again.
 */
public interface ContinuousEvidence {
    /** How often to renew the evidence, as the server asked at the last attestation. */
    Duration interval();

    /** The answer to one server challenge. */
    byte[] answer(byte[] challenge);
}
