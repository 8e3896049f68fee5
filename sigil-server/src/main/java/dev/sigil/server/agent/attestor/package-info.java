/**
 * Node attestors, server side: one {@link dev.sigil.server.agent.attestor.NodeAttestor} per method
 * ({@code join_token}, {@code x509pop}, and {@code jwt} in its own package), each ending an attempt in a sealed
 * {@link dev.sigil.server.agent.attestor.AttestationStep}. The agent sides live in
 * {@code dev.sigil.agent.attestor}; every pair passes the shared {@code NodeAttestorContract}.
 */
package dev.sigil.server.agent.attestor;
