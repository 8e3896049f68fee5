package dev.sigil.server.token;

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
    /** How stale the attestation evidence policy sees in an exchange may be (registration changes, bans). */
    static final java.time.Duration EVIDENCE_MAX_AGE = java.time.Duration.ofSeconds(1);

    final TokenSettings settings;
    final TokenExchange exchange;
    final TokenIntrospection introspection;
    final Clock clock;
    final JwtSvidVerifier verifier;
    final GrantGate gate;

    public TokenService(TokenSettings settings, Authority authority, PolicyEngine policy, TaskStore tasks, IssuedTokens issued,
                        dev.sigil.server.status.TokenStatusRegistry statuses, dev.sigil.server.credential.LeaseService leases, GrantGate gate,
                        Datastore datastore, AuditTrail audit, Clock clock, java.util.function.UnaryOperator<String> tokenHasher,
                        SubjectEvidence evidence) {
        Objects.requireNonNull(policy, "policy");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        JwtSvidVerifier verifier = new JwtSvidVerifier(authority::bundle, clock,
                new SvidRevocation(issued, java.util.Optional.ofNullable(statuses)));
        this.verifier = verifier;
        this.gate = gate;
        this.exchange = new TokenExchange(settings, authority, verifier, policy, tasks, issued, statuses, leases.store(), java.util.Optional.of(leases), gate, audit, clock,
                tokenHasher, SubjectEvidence.cached(evidence, clock, EVIDENCE_MAX_AGE));
        this.introspection = new TokenIntrospection(settings, verifier, issued, tasks, datastore, audit, clock, gate);
    }

    /** Revokes the token with {@code jti} on an administrator's behalf; false when no such token was issued. */
    public boolean revoke(String jti, String actor) {
        return introspection.revokeJti(jti, actor);
    }

    public TokenSettings settings() {
        return settings;
    }
}
