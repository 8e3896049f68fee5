package dev.sigil.server.token;

import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.task.TaskStore;
import java.time.Clock;
import java.util.Objects;

/**
 * The token service's operations (exchange, introspection, revocation), independent of HTTP. Built once
 * in the composition root; the {@link PolicyEngine} decides every exchange.
 */
public final class TokenService {
    final TokenSettings settings;
    final TokenExchange exchange;
    final TokenIntrospection introspection;
    final Clock clock;
    final JwtSvidVerifier verifier;
    final GrantGate gate;
    private final dev.sigil.server.status.TokenStatusRegistry statuses;

    public TokenService(TokenSettings settings, Authority authority, PolicyEngine policy, TaskStore tasks, IssuedTokens issued,
                        dev.sigil.server.status.TokenStatusRegistry statuses, dev.sigil.server.credential.LeaseService leases, GrantGate gate,
                        Datastore datastore, AuditTrail audit, Clock clock, SubjectEvidence evidence) {
        this(settings, authority, policy, tasks, issued, statuses, leases, gate, datastore, audit, clock, evidence,
                trustDomain -> java.util.Optional.empty(), dev.sigil.server.resource.ResourceCatalog.none());
    }

    /**
     * With {@code federated}: the current bundle of each trust domain this one federates with, so that a
     * JWT-SVID of a federated trust domain may be the subject or actor of an exchange (its policy must name it);
     * with {@code resources}: the registered protected resources, whose scopes bound their tokens.
     */
    public TokenService(TokenSettings settings, Authority authority, PolicyEngine policy, TaskStore tasks, IssuedTokens issued,
                        dev.sigil.server.status.TokenStatusRegistry statuses, dev.sigil.server.credential.LeaseService leases, GrantGate gate,
                        Datastore datastore, AuditTrail audit, Clock clock, SubjectEvidence evidence,
                        java.util.function.Function<dev.sigil.core.spiffeid.TrustDomain, java.util.Optional<dev.sigil.core.bundle.SpiffeBundle>> federated,
                        dev.sigil.server.resource.ResourceCatalog resources) {
        Objects.requireNonNull(policy, "policy");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        JwtSvidVerifier verifier = new JwtSvidVerifier(authority::bundle, clock,
                new SvidRevocation(issued, java.util.Optional.ofNullable(statuses)), federated::apply);
        this.verifier = verifier;
        this.gate = gate;
        this.statuses = statuses;
        this.exchange = new TokenExchange(settings, authority, verifier, policy, tasks, leases, gate, audit, clock,
                SubjectEvidence.cached(evidence, clock, SubjectEvidence.DECISION_MAX_AGE), issued, resources);
        this.introspection = new TokenIntrospection(settings, verifier, issued, tasks, datastore, audit, clock, gate);
    }

    /**
     * Revokes a leaked token this server issued, found by what it says rather than by its exact bytes
     * (a copy re-encoded without the key is the same token): an access token by its {@code jti} in the
     * registry, a JWT-SVID by its status list entry. Returns the token's subject, or empty when the value
     * is no unexpired token of this trust domain.
     */
    public java.util.Optional<dev.sigil.core.spiffeid.SpiffeId> revokeLeaked(String reported, String actor) {
        String text = reported.strip();
        if (text.regionMatches(true, 0, "Bearer ", 0, 7)) {
            text = text.substring(7).strip();
        }
        java.util.Optional<String> canonical = dev.sigil.core.crypto.JwsCanonical.canonical(text);
        if (canonical.isEmpty()) {
            return java.util.Optional.empty();
        }
        JwtSvidVerifier.Verified verified;
        try {
            verified = verifier.verifySignature(canonical.get(), "leaked token");
        } catch (OAuthException e) {
            return java.util.Optional.empty();
        }
        String jti = verified.claims().getJWTID();
        if (jti != null && introspection.revokeJti(jti, actor)) {
            return java.util.Optional.of(verified.subject());
        }
        if (statuses != null && verified.claims().getClaim("status") instanceof java.util.Map<?, ?> status
                && status.get("status_list") instanceof java.util.Map<?, ?> list
                && list.get("uri") instanceof String uri && list.get("idx") instanceof Number idx) {
            statuses.invalidateAt(uri, idx.longValue(), clock.instant());
            return java.util.Optional.of(verified.subject());
        }
        return java.util.Optional.empty();
    }

    /** Revokes the token with {@code jti} on an administrator's behalf; false when no such token was issued. */
    public boolean revoke(String jti, String actor) {
        return introspection.revokeJti(jti, actor);
    }

    public TokenSettings settings() {
        return settings;
    }
}
