package dev.sigil.server.token;

import dev.sigil.server.datastore.Transaction;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.task.Task;
import dev.sigil.server.task.TaskStore;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * RFC 7662 introspection and RFC 7009 revocation of the access tokens this service issued, for callers
 * authenticated by their SVID (mutual TLS, or a JWT-SVID bearer whose audience is the token endpoint).
 *
 * <p>A token is active only when its signature verifies with this trust domain's bundle, it is in the
 * registry, not revoked, not expired, and — when issued under a task — that task is still active at
 * the time of the call (a task that ended or expired revokes its tokens on the spot).
 */
final class TokenIntrospection {
    private static final String INACTIVE = "{\"active\":false}";

    private final TokenSettings settings;
    private final JwtSvidVerifier verifier;
    private final IssuedTokens issued;
    private final TaskStore tasks;
    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private final GrantGate gate;
    private final ObjectMapper json = new ObjectMapper();

    TokenIntrospection(TokenSettings settings, JwtSvidVerifier verifier, IssuedTokens issued, TaskStore tasks, Datastore datastore,
                       AuditTrail audit, Clock clock, GrantGate gate) {
        this.gate = gate;
        this.settings = settings;
        this.verifier = verifier;
        this.issued = issued;
        this.tasks = tasks;
        this.datastore = datastore;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The SPIFFE ID of the caller: its mutual TLS identity, else the subject of its JWT-SVID bearer token.
     *
     * @throws OAuthException {@code invalid_client} (401) when neither authenticates it
     */
    SpiffeId authenticate(Caller caller) {
        if (caller.mtlsId().isPresent() && caller.bearer().isEmpty()) {
            return caller.mtlsId().get();
        }
        if (caller.bearer().isEmpty()) {
            throw OAuthException.invalidClient("authenticate with an x509-svid over mutual tls or a jwt-svid bearer token whose audience is "
                    + settings.audience());
        }
        JwtSvidVerifier.Verified verified;
        try {
            verified = verifier.verify(caller.bearer().get(), "bearer token", Set.of(settings.audience()));
        } catch (OAuthException e) {
            throw OAuthException.invalidClient(e.getMessage());
        }
        Optional<String> gated = gate.refusal(verified.subject(), TokenExchange.issuedAt(verified));
        if (gated.isPresent()) {
            throw OAuthException.invalidClient("bearer token: " + gated.get());
        }
        if (caller.mtlsId().isPresent() && !caller.mtlsId().get().equals(verified.subject())) {
            // two credentials naming two identities: refuse rather than pick one (as /v1/credentials does)
            throw OAuthException.invalidRequest("the client certificate's spiffe id " + caller.mtlsId().get()
                    + " differs from the bearer jwt-svid's " + verified.subject());
        }
        return verified.subject();
    }

    String introspect(Form form, Caller caller) {
        SpiffeId who = authenticate(caller);
        String token = form.get("token").orElseThrow(() -> OAuthException.invalidRequest("token is required"));
        Optional<IssuedTokens.Row> row = activeRow(token, who);
        if (row.isEmpty()) {
            return INACTIVE;
        }
        IssuedTokens.Row r = row.get();
        if (!mayIntrospect(who, r)) {
            // RFC 7662 section 4: a caller that is neither the token's holder, nor its audience, nor an
            // introspector learns nothing about it, not even that it is active
            auditRefusedIntrospection(who, r);
            return INACTIVE;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("active", true);
        body.put("iss", settings.issuer());
        body.put("sub", r.subject());
        body.put("aud", r.audience());
        if (!r.scope().isEmpty()) {
            body.put("scope", r.scope());
        }
        body.put("token_type", "Bearer");
        body.put("exp", r.expiresAt().getEpochSecond());
        body.put("iat", r.issuedAt().getEpochSecond());
        body.put("jti", r.jti());
        r.task().ifPresent(t -> body.put("task", t));
        r.cnfX5t().ifPresent(t -> body.put("cnf", Map.of("x5t#S256", t)));
        try {
            return json.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Revokes a token issued to the caller. Unknown, invalid or already inactive tokens succeed silently (RFC 7009 section 2.2). */
    void revoke(Form form, Caller caller) {
        SpiffeId who = authenticate(caller);
        String token = form.get("token").orElseThrow(() -> OAuthException.invalidRequest("token is required"));
        String jti;
        try {
            jti = verifier.verifyAccessToken(token, "token").claims().getJWTID();
        } catch (OAuthException e) {
            return;
        }
        Optional<IssuedTokens.Row> row = jti == null ? Optional.empty() : issued.find(jti);
        if (row.isEmpty()) {
            return;
        }
        if (!row.get().subject().equals(who.toString())) {
            throw new OAuthException(400, "unauthorized_client", "the token was issued to " + row.get().subject() + ", not to " + who
                    + "; a workload may revoke only its own tokens");
        }
        revokeJti(jti, who.toString());
    }

    /** Revokes by jti (admin API); false when no such token is registered. */
    boolean revokeJti(String jti, String actor) {
        Instant now = clock.instant();
        return datastore.transaction(transaction -> {
            Optional<IssuedTokens.Row> row = issued.find(jti);
            if (row.isEmpty()) {
                return false;
            }
            boolean changed = issued.revoke(transaction, jti, now);
            if (changed) {
                audit.append(transaction, AuditEvent.success(actor, "token.revoke", row.get().subject(), Map.of("jti", jti)));
            }
            return true;
        });
    }

    /**
     * The token's registry row when it is active. A token Sigil issued that is presented after its
     * revocation (directly, or through the end of its task) is audited as {@code token.introspect}
     * denied, so a responder sees who still holds and uses a revoked credential.
     */
    private Optional<IssuedTokens.Row> activeRow(String token, SpiffeId caller) {
        JwtSvidVerifier.Verified verified;
        try {
            verified = verifier.verifyAccessToken(token, "token");
        } catch (OAuthException e) {
            return Optional.empty();
        }
        String jti = verified.claims().getJWTID();
        if (jti == null || !settings.issuer().equals(verified.claims().getIssuer())) {
            return Optional.empty();
        }
        Optional<IssuedTokens.Row> row = issued.find(jti);
        Instant now = clock.instant();
        if (row.isEmpty() || !row.get().subject().equals(verified.subject().toString()) || !row.get().expiresAt().isAfter(now)) {
            return Optional.empty();
        }
        if (row.get().revokedAt().isPresent()) {
            auditRevokedUse(caller, row.get(), "revoked");
            return Optional.empty();
        }
        if (row.get().task().isPresent()) {
            Optional<Task> task = tasks.find(row.get().task().get());
            if (task.isEmpty() || task.get().state(now) != Task.State.ACTIVE) {
                datastore.transaction(transaction -> issued.revoke(transaction, jti, now));
                auditRevokedUse(caller, row.get(), "task " + row.get().task().get() + " ended");
                return Optional.empty();
            }
        }
        return row;
    }

    private boolean mayIntrospect(SpiffeId who, IssuedTokens.Row row) {
        String caller = who.toString();
        return caller.equals(row.subject()) || caller.equals(row.audience()) || settings.introspectors().contains(who);
    }

    private void auditRefusedIntrospection(SpiffeId caller, IssuedTokens.Row row) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("jti", row.jti());
        details.put("reason", "caller is neither the token's holder, nor its audience, nor a configured introspector");
        audit.append(AuditEvent.denied(caller.toString(), "token.introspect", row.subject(), details));
    }

    private void auditRevokedUse(SpiffeId caller, IssuedTokens.Row row, String why) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("jti", row.jti());
        details.put("reason", why);
        row.task().ifPresent(task -> details.put("task", task));
        audit.append(AuditEvent.denied(caller.toString(), "token.introspect", row.subject(), details));
    }
}
