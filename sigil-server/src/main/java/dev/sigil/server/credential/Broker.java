package dev.sigil.server.credential;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A backend that mints real credentials for leases: the extension point every credential broker
 * implements ({@code postgresql}, {@code ssh}, {@code token}), each proven by the shared
 * {@code BrokerContract} test.
 *
 * <p>Contract, which the lease service relies on for "nothing granted that is not recorded":
 * <ul>
 *   <li>The lease service records the lease durably <em>before</em> calling {@link #grant}, and marks
 *       it revoking durably before calling {@link #revoke}. A broker therefore never needs its own
 *       bookkeeping, but every backend object it creates must be findable from the lease id alone
 *       (e.g. a role name derived from it), so {@link #revoke} works after a crash with no other
 *       state.</li>
 *   <li>{@link #revoke} is idempotent: revoking a lease that was never granted, was half granted
 *       (crash in the middle of {@link #grant}) or is already revoked succeeds and leaves nothing.</li>
 *   <li>{@link #grant} either grants completely or throws; if it throws after creating something, it
 *       removes what it created or leaves it for {@link #revoke}, which the lease service always
 *       calls for a failed grant.</li>
 *   <li>The credential never outlives {@code expiresAt} in the backend where the backend can
 *       enforce it (PostgreSQL {@code VALID UNTIL}, certificate validity, token {@code exp}), so a
 *       Sigil outage does not extend privilege.</li>
 *   <li>Methods are safe to call from several threads. They may block on the backend; failures of
 *       the backend are {@link BrokerException.Unavailable}, requester mistakes
 *       {@link BrokerException.Rejected}. No secret in messages or logs.</li>
 * </ul>
 */
public interface Broker {

    /** The broker's type as written in configuration and requests: {@code postgresql}, {@code ssh}, {@code token}. */
    String type();

    /**
     * Rejects (with {@link BrokerException.Rejected}) a resource this broker does not serve or a
     * malformed broker-specific parameter, before anything is recorded. Must not touch the backend.
     */
    void check(String resource, Map<String, String> parameters);

    /** Creates the backend credential for the lease (already recorded by the caller). */
    Granted grant(LeaseGrant lease);

    /** Extends the credential in the backend to {@code newExpiry} (already bounded by the caller). */
    void renew(LeaseGrant lease, Instant newExpiry);

    /** Removes everything granted for the lease. Idempotent; see the class contract. */
    void revoke(LeaseGrant lease);

    /**
     * The leases that have something granted in the backend, if the backend can be listed (a database
     * can; issued certificates cannot). At start-up the lease service revokes any of these it does not
     * hold as active, so a crash between grant and record leaves nothing behind.
     */
    Optional<Set<LeaseId>> granted();

    /**
     * Maps a reported leaked value (as a responder would paste it: a password, an
     * {@code ssh-…-cert-v01@openssh.com AAAA… comment} line, a token) to the canonical form this broker
     * puts in {@link CredentialSecret#leakKey()}, or empty when it cannot be one of this broker's.
     */
    Optional<String> leakKey(String reported);

    /**
     * The lease a leak key (what {@link #leakKey} returned) names by itself, when this broker's credentials
     * carry their lease id (a signed token's {@code jti}); empty otherwise (the default). A leak report
     * looks such a lease up by id and accepts it only when its leak hash is that of the same key, so a
     * forged value that names a lease finds nothing. The leak hashes of these brokers' leases are not
     * indexed ({@link LeaseStore#SELF_NAMING_BROKERS}).
     */
    default Optional<LeaseId> namedLease(String leakKey) {
        return Optional.empty();
    }

    /**
     * True when the backend credential ends at its lease's expiry by itself and nothing remains to
     * remove (a signed token's {@code exp}, a certificate's validity): the expiry reaper then closes the
     * lease as revoked without calling {@link #revoke} and without a per-lease audit record (the grant's
     * record already holds the expiry). False (the default) when something outlives the expiry in the
     * backend, such as a database role's open sessions.
     */
    default boolean expiresByItself() {
        return false;
    }

    /**
     * How many backend calls are worth making at once (a pool of connections to the backend): the lease
     * service runs at most this many revocation attempts of one request in parallel. 1 (the default)
     * for a broker that gains nothing from concurrency.
     */
    default int parallelism() {
        return 1;
    }

    /**
     * Public material relying systems need to trust this broker's credentials, by name (the SSH user CA
     * line for sshd's {@code TrustedUserCAKeys} is {@code ssh_user_ca}); served unauthenticated on the
     * bundle endpoint, so never anything secret. Empty (the default) when there is none.
     */
    default java.util.Map<String, String> publicMaterial() {
        return java.util.Map.of();
    }
}
