/**
 * Agents: the registry of attested node agents and the agent API they call.
 *
 * <p>{@link dev.sigil.server.agent.AgentStore} records each agent (attestor, selectors, trust level,
 * current SVID serial, ban) with an audit record in the same transaction.
 * {@link dev.sigil.server.agent.AgentApiServer} serves the gRPC agent API over TLS: Attest runs a
 * {@link dev.sigil.server.agent.attestor.NodeAttestor}; every other call is authenticated per call by
 * the agent's current X.509-SVID and acts only on entries authorized for that agent (its own children
 * and node-alias children). {@link dev.sigil.server.agent.AgentRoutes} is the operators' admin API.
 */
package dev.sigil.server.agent;
