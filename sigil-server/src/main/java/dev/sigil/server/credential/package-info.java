/**
 * Just-in-time credentials: leases over real backend credentials minted by {@link
 * dev.sigil.server.credential.Broker}s, granted under policy, renewed within bounds, and revoked
 * durably (intent recorded before the backend call, retried until it succeeds, reconciled at start).
 */
package dev.sigil.server.credential;
