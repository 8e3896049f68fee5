package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.policy.Decision;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a broker is asked to grant (and later renew or revoke): everything about one lease that the
 * backend credential is derived from. Built by the lease service only after policy allowed the
 * request; a broker trusts these values and must not widen them.
 *
 * @param broker      the configured broker name the lease belongs to
 * @param holder      the workload the credential is for
 * @param task        the task (intent) it was issued under, if any
 * @param resource    what the credential is for, in the broker's own terms (a database name, an
 *                    SSH host group, an audience)
 * @param delegation  the delegation chain, outermost actor first (empty without delegation); brokers
 *                    record it for forensics where the backend allows (e.g. a role comment)
 * @param obligations what policy obliged the issuer to do (TTL cap already applied to
 *                    {@code expiresAt}; scopes, SSH principals and options still to apply)
 * @param parameters  broker-specific request parameters, validated by {@link Broker#check} (e.g. the
 *                    SSH public key to certify); never secrets
 */
public record LeaseGrant(LeaseId id, String broker, SpiffeId holder, Optional<String> task, String resource,
                         Instant issuedAt, Instant expiresAt, List<SpiffeId> delegation,
                         Decision.Obligations obligations, Map<String, String> parameters) {
    public LeaseGrant {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(broker, "broker");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (!expiresAt.isAfter(issuedAt)) {
            throw new IllegalArgumentException("lease " + id + " expires at " + expiresAt + ", not after it is issued at " + issuedAt);
        }
        delegation = List.copyOf(delegation);
        Objects.requireNonNull(obligations, "obligations");
        parameters = Map.copyOf(parameters);
    }

    /** The same lease with a new expiry (a renewal). */
    public LeaseGrant withExpiresAt(Instant newExpiry) {
        return new LeaseGrant(id, broker, holder, task, resource, issuedAt, newExpiry, delegation, obligations, parameters);
    }
}
