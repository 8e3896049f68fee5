package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.policy.Decision;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One lease as stored: everything needed to show, renew and revoke it, and nothing secret. The
 * credential itself is never stored; {@code leakHash} is the keyed hash of its leak key, so a
 * responder holding a leaked value can find the lease.
 *
 * @param broker       the configured broker the lease belongs to (its type: {@code postgresql}, …)
 * @param agent        the node agent the holder's identity is issued through, when known
 * @param delegation   the delegation chain at issuance, outermost actor first
 * @param details      non-secret facts the broker reported ({@link Granted#details()})
 * @param revocation   bookkeeping of a requested revocation (empty until one is requested)
 */
public record Lease(LeaseId id, String broker, SpiffeId holder, Optional<String> task, String resource,
                    Instant issuedAt, Instant expiresAt, Instant maxExpiresAt, LeaseState state,
                    Map<String, String> details, Optional<String> leakHash, Optional<SpiffeId> agent,
                    List<SpiffeId> delegation, Optional<Revocation> revocation) {
    public Lease {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(broker, "broker");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(maxExpiresAt, "maxExpiresAt");
        Objects.requireNonNull(state, "state");
        if (expiresAt.isAfter(maxExpiresAt)) {
            throw new IllegalArgumentException("lease " + id + " expires at " + expiresAt + ", after its maximum " + maxExpiresAt);
        }
        details = Map.copyOf(details);
        Objects.requireNonNull(leakHash, "leakHash");
        Objects.requireNonNull(agent, "agent");
        delegation = List.copyOf(delegation);
        Objects.requireNonNull(revocation, "revocation");
    }

    /**
     * A revocation's progress: why and when it was requested, how many backend attempts failed, the
     * last failure's message (never a secret), when the next attempt is due and when it succeeded.
     */
    public record Revocation(String reason, Instant requestedAt, int attempts, Optional<String> lastError,
                             Optional<Instant> nextAttemptAt, Optional<Instant> revokedAt) {
        public Revocation {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(requestedAt, "requestedAt");
            if (attempts < 0) {
                throw new IllegalArgumentException("revocation attempts must not be negative, got " + attempts);
            }
            Objects.requireNonNull(lastError, "lastError");
            Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
            Objects.requireNonNull(revokedAt, "revokedAt");
        }
    }

    /**
     * What the broker needs to renew or revoke this lease. Obligations and parameters are not stored
     * (brokers derive every backend object from the lease id, see {@link Broker}), so they are empty.
     */
    public LeaseGrant toGrant() {
        Instant expiry = expiresAt.isAfter(issuedAt) ? expiresAt : issuedAt.plusSeconds(1);
        return new LeaseGrant(id, broker, holder, task, resource, issuedAt, expiry, delegation, Decision.Obligations.none(), Map.of());
    }

    /** This lease as {@link LeaseStore#markRevoking} leaves it: revoking for {@code reason} since {@code at}, no attempt made. */
    Lease revokingSince(String reason, Instant at, Instant nextAttemptAt) {
        return new Lease(id, broker, holder, task, resource, issuedAt, expiresAt, maxExpiresAt, LeaseState.REVOKING, details, leakHash,
                agent, delegation, Optional.of(new Revocation(reason, at, 0, Optional.empty(), Optional.of(nextAttemptAt), Optional.empty())));
    }

    /** True while something may be granted in the backend for this lease. */
    public boolean mayBeGranted() {
        return state != LeaseState.REVOKED;
    }
}
