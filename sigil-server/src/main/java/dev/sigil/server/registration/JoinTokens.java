package dev.sigil.server.registration;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * One-time join tokens that let a node attest without other evidence (assurance level 1).
 *
 * <p>Security properties: a token is 256 random bits, shown once at generation and stored only as
 * its SHA-256; a token admits at most one node even when several servers share the database (the
 * consuming DELETE succeeds for exactly one of them); an expired token admits none. Generation,
 * every consumption attempt (successful or not) and pruning are audited in the same transaction.
 */
public interface JoinTokens {
    /** The longest lifetime a token may be given. */
    Duration MAX_TTL = Duration.ofDays(30);

    static JoinTokens create(Datastore datastore, AuditTrail audit, Clock clock) {
        return new SqlJoinTokens(datastore, audit, clock, new SecureRandom());
    }

    /** A new token valid for {@code ttl} (positive, at most {@link #MAX_TTL}), optionally naming the node's SPIFFE ID. */
    IssuedJoinToken generate(Optional<SpiffeId> spiffeId, Duration ttl, String actor);

    /** Uses up the token if it exists; {@code actor} names who presented it (for example the agent's address). */
    JoinTokenConsumption consume(String tokenValue, String actor);

    /** Deletes expired tokens and returns how many there were. */
    int pruneExpired(String actor);
}
