/**
 * The one authorization path every grant takes, whatever it mints (an access token, a database role,
 * an SSH certificate): task boundary, policy decision for the holder and for its actor (fail closed),
 * scope narrowing, the mutual TLS obligation, and the lifetime caps, with every refusal of a verified
 * holder audited. Token exchange, brokered exchange and {@code POST /v1/credentials} are front doors
 * over {@link dev.sigil.server.grant.GrantPipeline}; none of them decides on its own.
 *
 * <p>Depends on policy, task, evidence and audit only; the token and credential packages depend on it,
 * never the reverse.
 */
package dev.sigil.server.grant;
