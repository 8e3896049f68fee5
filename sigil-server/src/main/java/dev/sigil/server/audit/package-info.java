/**
 * The tamper-evident audit trail: append-only records, each hash-chained to the one before it,
 * written in the same transaction as the change they describe, verifiable end to end
 * ({@link dev.sigil.server.audit.AuditTrail#verify()}) and queryable by actor, subject, action and
 * time. Records never hold secrets.
 */
package dev.sigil.server.audit;
