/**
 * The {@code tpm} node attestor: TPM 2.0 nodes, verified Keylime-style in pure Java. The EK certificate
 * chains to a configured manufacturer CA bundle (or the EK key is allow-listed); the attestation key is
 * proven resident on the same TPM by credential activation (MakeCredential here, ActivateCredential on
 * the node); a quote over the configured PCR selection with a server nonce is checked against the PCR
 * policies. Quotes keep coming while the agent runs ({@link dev.sigil.server.agent.attestor.ContinuousAttestor}):
 * a PCR outside policy is node drift. Sees only the attestor contract ({@link dev.sigil.server.agent.attestor}).
 */
package dev.sigil.server.agent.attestor.tpm;
