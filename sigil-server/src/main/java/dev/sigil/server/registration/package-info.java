/**
 * Registration: which workloads and nodes may receive which SPIFFE ID, and the join tokens that let
 * a node attest for the first time.
 *
 * <p>{@link dev.sigil.server.registration.EntryStore} keeps the entries: validated drafts
 * ({@link dev.sigil.server.registration.EntryDraft}) become stored entries with a server-assigned id
 * and a revision from one global change counter, so agents can sync "everything changed since
 * revision N" ({@link dev.sigil.server.registration.EntryStore#changesSince}). Updates are
 * optimistic; duplicates are refused. {@link dev.sigil.server.registration.JoinTokens} issues
 * single-use tokens stored only as hashes. Every change is audited in its own transaction through
 * {@link dev.sigil.server.audit.AuditTrail}. Failures are
 * {@link dev.sigil.server.registration.RegistrationException}s with a stable reason.
 */
package dev.sigil.server.registration;
