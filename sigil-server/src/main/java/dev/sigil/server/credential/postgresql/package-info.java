/**
 * The {@code postgresql} credential broker: a unique, expiring login role per lease, with group
 * memberships from configuration. See {@code docs/brokers/postgresql.md}.
 */
package dev.sigil.server.credential.postgresql;
