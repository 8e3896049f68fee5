package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.status.StatusRef;
import dev.sigil.server.credential.Lease;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.credential.LeaseStore;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.status.TokenStatusRegistry;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.task.Task;
import dev.sigil.server.task.TaskStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 8693 token exchange: turns a verified SVID (a JWT-SVID subject token, or the caller's
 * X.509-SVID from mutual TLS) into a short-lived JWT access token for one audience.
 *
 * <p>Guarantees: a token is issued only when the subject (and the actor, if any) verify, the task
 * boundary holds, the policy engine allows for the subject and for the actor, the obligations are
 * met, and the token's registry row and its {@code token.exchange} audit record are committed in one
 * transaction (fail closed: no record, no token). An actor can only narrow: it may not obtain a scope
 * that policy would not grant the actor itself. Denials are audited with their reasons. The token
 * itself is never stored or logged; the audit holds its keyed hash (HMAC), so a responder holding a leaked
 * token can find its record with {@code POST /v1/audit/find-token}.
 */
final class TokenExchange {
    private static final Logger LOG = LoggerFactory.getLogger(TokenExchange.class);
    static final String ACTION = "token:exchange";
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final TokenSettings settings;
    private final Authority authority;
    private final JwtSvidVerifier verifier;
    private final PolicyEngine policy;
    private final TaskStore tasks;
    private final IssuedTokens issued;
    private final TokenStatusRegistry statuses;
    private final LeaseStore leaseStore;
    private final Optional<BrokeredExchange> brokered;
    private final GrantGate gate;
    private final AuditTrail audit;
    private final Clock clock;
    /** Keyed hash (HMAC with the server's audit key) under which a token is recorded; never the token itself. */
    private final java.util.function.UnaryOperator<String> tokenHasher;
    private final SubjectEvidence evidence;
    private final ObjectMapper json = new ObjectMapper();

    TokenExchange(TokenSettings settings, Authority authority, JwtSvidVerifier verifier, PolicyEngine policy, TaskStore tasks,
                  IssuedTokens issued, TokenStatusRegistry statuses, LeaseStore leaseStore, Optional<LeaseService> leases, GrantGate gate, AuditTrail audit, Clock clock, java.util.function.UnaryOperator<String> tokenHasher,
                  SubjectEvidence evidence) {
        this.tokenHasher = tokenHasher;
        this.evidence = evidence;
        this.settings = settings;
        this.authority = authority;
        this.verifier = verifier;
        this.policy = policy;
        this.tasks = tasks;
        this.issued = issued;
        this.statuses = statuses;
        this.leaseStore = leaseStore;
        this.brokered = leases.map(service -> new BrokeredExchange(service, clock));
        this.gate = gate;
        this.audit = audit;
        this.clock = clock;
    }

    /** When the JWT-SVID was minted ({@code iat}); without {@code iat}, the epoch, so any gate refuses it (fail closed). */
    static Instant issuedAt(JwtSvidVerifier.Verified verified) {
        java.util.Date iat = verified.claims().getIssueTime();
        return iat == null ? Instant.EPOCH : iat.toInstant();
    }

    /** Returns the JSON success response, or throws {@link OAuthException} for a refusal. */
    String exchange(Form form, Caller caller) {
        try {
            return exchangeAudited(form, caller);
        } catch (OAuthException e) {
            // A refusal once the caller is known (a genuine but revoked or wrong-typed token, a certificate
            // that is neither subject nor actor, a malformed scope or target from a verified caller) is
            // audited like a policy denial; only refusals of callers nobody could identify are not.
            if (!e.isAudited()) {
                Optional<SpiffeId> who = e.presentedBy().or(() -> identify(form, caller));
                who.ifPresent(subject -> refuse(e, subject, Map.of(), List.of(e.error())));
            }
            throw e;
        }
    }

    /** The caller of a refused request, when it can be told: its verified subject token, else its certificate. */
    private Optional<SpiffeId> identify(Form form, Caller caller) {
        Optional<String> token = form.get("subject_token");
        if (token.isPresent()) {
            try {
                return Optional.of(verifier.verify(token.get(), "subject_token", Set.of(settings.audience())).subject());
            } catch (OAuthException e) {
                return Optional.empty();
            }
        }
        return caller.mtlsId();
    }

    private String exchangeAudited(Form form, Caller caller) {
        ExchangeRequest request = ExchangeRequest.parse(form);
        SpiffeId subject;
        Instant subjectIssuedAt;
        Optional<String> subjectToken = request.subjectToken();
        if (subjectToken.isPresent()) {
            JwtSvidVerifier.Verified verified = verifier.verify(subjectToken.get(), "subject_token", Set.of(settings.audience()));
            subject = verified.subject();
            subjectIssuedAt = issuedAt(verified);
        } else if (caller.mtlsId().isPresent()) {
            subject = caller.mtlsId().get();
            subjectIssuedAt = caller.clientCertificate().orElseThrow().getNotBefore().toInstant().plus(Authority.X509_BACKDATE);
        } else {
            throw OAuthException.invalidRequest("subject_token is required unless the client authenticates with an x509-svid over mutual tls");
        }

        Optional<SpiffeId> actor = Optional.empty();
        Instant actorIssuedAt = Instant.EPOCH;
        Map<String, Object> act = null;
        List<SpiffeId> chain = new ArrayList<>();
        if (request.actorToken().isPresent()) {
            JwtSvidVerifier.Verified verified = verifier.verify(request.actorToken().get(), "actor_token", Set.of(settings.audience()));
            actor = Optional.of(verified.subject());
            actorIssuedAt = issuedAt(verified);
            act = new LinkedHashMap<>();
            act.put("sub", verified.subject().toString());
            // the actor token is a jwt-svid, which never carries act: delegation is one level deep,
            // and a chain can be neither copied from nor smuggled in through the actor's token
            chain.add(verified.subject());
        }
        if (caller.mtlsId().isPresent() && subjectToken.isPresent()
                && !caller.mtlsId().get().equals(subject) && !actor.map(caller.mtlsId().get()::equals).orElse(false)) {
            throw OAuthException.invalidRequest("the client certificate's spiffe id " + caller.mtlsId().get()
                    + " is neither the subject nor the actor of this exchange");
        }

        String audience = request.audience();
        List<String> scopes = request.scopes();
        Optional<String> taskId = request.task();
        Instant now = clock.instant();
        Map<String, String> details = new HashMap<>();
        details.put("audience", audience);
        details.put("scopes", String.join(" ", scopes));
        details.put("mtls", Boolean.toString(caller.mutualTls()));
        taskId.ifPresent(id -> details.put("task", clip(id)));
        actor.ifPresent(a -> details.put("actor", a.toString()));
        Optional<String> gated = gate.refusal(subject, subjectIssuedAt);
        if (gated.isEmpty() && actor.isPresent()) {
            gated = gate.refusal(actor.get(), actorIssuedAt);
        }
        if (gated.isPresent()) {
            throw refuse(OAuthException.accessDenied(gated.get()), subject, details, List.of("drift gate"));
        }
        if (request.brokered()) {
            return brokered.orElseThrow(() -> OAuthException.invalidRequest("this server has no credential brokers"))
                    .issue(request.requestedTokenType().orElseThrow(), subject, caller.mtlsId().map(subject::equals).orElse(false), chain, audience, taskId);
        }

        Optional<Task> task = Optional.empty();
        if (taskId.isPresent()) {
            task = Optional.of(checkTask(taskId.get(), subject, audience, scopes, now, details));
        }

        SubjectEvidence.Evidence subjectEvidence = evidence.of(subject);
        Decision forSubject = decide(new PolicyRequest(subject, subjectEvidence.selectors(), subjectEvidence.trustLevel(),
                subjectEvidence.attestedAt(), ACTION, audience, scopes, taskId, chain, now, Map.of("mtls", caller.mutualTls())));
        Decision.Allow subjectAllow = allowOrDeny(forSubject, subject, subject, details);
        Optional<Decision.Allow> actorAllow = Optional.empty();
        if (actor.isPresent()) {
            SubjectEvidence.Evidence actorEvidence = evidence.of(actor.get());
            Decision forActor = decide(new PolicyRequest(actor.get(), actorEvidence.selectors(), actorEvidence.trustLevel(),
                    actorEvidence.attestedAt(), ACTION, audience, scopes, taskId, List.of(), now,
                    Map.of("mtls", caller.mutualTls(), "on_behalf_of", subject.toString())));
            actorAllow = Optional.of(allowOrDeny(forActor, actor.get(), subject, details));
        }

        // Scopes: the request (or, when none is requested, what policy allows the subject), narrowed to
        // what the subject may have, then to what the actor may have; an actor asking beyond that is refused.
        Optional<Set<String>> subjectScopes = subjectAllow.obligations().allowedScopes();
        Set<String> granted = new LinkedHashSet<>(scopes.isEmpty() ? subjectScopes.orElse(Set.of()) : scopes);
        subjectScopes.ifPresent(granted::retainAll);
        Optional<Set<String>> actorScopes = actorAllow.flatMap(a -> a.obligations().allowedScopes());
        if (actorScopes.isPresent()) {
            List<String> widening = scopes.stream().filter(s -> !actorScopes.get().contains(s)).toList();
            if (!widening.isEmpty()) {
                throw refuse(OAuthException.invalidScope("actor " + actor.get() + " may not obtain scope(s) " + String.join(" ", widening)
                        + "; an actor can only narrow what the subject is granted"), subject, details, List.of("actor scope widening"));
            }
            granted.retainAll(actorScopes.get());
        }
        if (!scopes.isEmpty() && granted.isEmpty()) {
            throw refuse(OAuthException.invalidScope("none of the requested scopes (" + String.join(" ", scopes) + ") may be granted to "
                    + subject), subject, details, forSubject.reasons());
        }

        boolean requireMtls = subjectAllow.obligations().requireMutualTls()
                || actorAllow.map(a -> a.obligations().requireMutualTls()).orElse(false);
        if (requireMtls && !caller.mutualTls()) {
            throw refuse(OAuthException.accessDenied("policy requires proof of possession: call the token endpoint over mutual tls "
                    + "with an x509-svid"), subject, details, forSubject.reasons());
        }

        Duration ttl = settings.defaultTtl();
        for (Optional<Duration> cap : List.of(subjectAllow.obligations().maxTtl(),
                actorAllow.flatMap(a -> a.obligations().maxTtl()))) {
            if (cap.isPresent() && cap.get().compareTo(ttl) < 0) {
                ttl = cap.get();
            }
        }
        Instant issuedAt = now.truncatedTo(ChronoUnit.SECONDS);
        Instant expiresAt = issuedAt.plus(ttl);
        if (task.isPresent() && task.get().expiresAt().isBefore(expiresAt)) {
            expiresAt = task.get().expiresAt().truncatedTo(ChronoUnit.SECONDS);
        }
        if (authority.jwtSigningDeadline().isBefore(expiresAt)) {
            expiresAt = authority.jwtSigningDeadline().truncatedTo(ChronoUnit.SECONDS);
        }
        if (!expiresAt.isAfter(issuedAt)) {
            throw refuse(OAuthException.accessDenied("the token would expire immediately (task or policy lifetime exhausted)"),
                    subject, details, forSubject.reasons());
        }

        // The jti is also the token's lease id (120 random bits), so lease commands address the token.
        LeaseId leaseId = LeaseId.random();
        String jti = leaseId.value();
        Optional<String> x5t = caller.clientCertificate().map(TokenExchange::thumbprint);
        String scope = String.join(" ", granted);
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", settings.issuer());
        claims.put("sub", subject.toString());
        claims.put("aud", audience);
        // RFC 9068 section 2.2: the client that asked, the mutual TLS peer or else the actor or the subject
        claims.put("client_id", caller.mtlsId().orElse(actor.orElse(subject)).toString());
        if (!scope.isEmpty()) {
            claims.put("scope", scope);
        }
        claims.put("jti", jti);
        claims.put("iat", issuedAt.getEpochSecond());
        claims.put("exp", expiresAt.getEpochSecond());
        task.ifPresent(t -> claims.put("task", t.id()));
        if (act != null) {
            claims.put("act", act);
        }
        x5t.ifPresent(t -> claims.put("cnf", Map.of("x5t#S256", t)));
        StatusRef status = statuses.allocate();
        claims.put("status", statuses.claim(status));
        String token = authority.signJwt(write(claims), expiresAt, JwtSvidVerifier.ACCESS_TOKEN_TYP).compact();

        details.put("jti", jti);
        details.put("scopes", scope);
        details.put("token_hmac", tokenHasher.apply(token));
        details.put("expires_at", expiresAt.toString());
        details.put("reasons", reasons(forSubject.reasons()));
        IssuedTokens.Row row = new IssuedTokens.Row(jti, subject.toString(), audience, scope, task.map(Task::id), x5t,
                issuedAt, expiresAt, Optional.empty());
        Instant finalExpiresAt = expiresAt;
        Map<String, String> leaseDetails = new LinkedHashMap<>();
        leaseDetails.put("jti", jti);
        if (!scope.isEmpty()) {
            leaseDetails.put("scope", scope);
        }
        Lease lease = new Lease(leaseId, TokenBroker.TYPE, subject, task.map(Task::id), audience, issuedAt, expiresAt, expiresAt,
                LeaseState.ACTIVE, leaseDetails, Optional.of(details.get("token_hmac")), Optional.empty(), chain, Optional.empty());
        // Registry row and audit record commit together (no record, no token), group-committed with
        // concurrent exchanges so the durable commit is shared.
        audit.append(AuditEvent.success(subject.toString(), "token.exchange", subject.toString(), details),
                connection -> {
                    issued.insert(connection, row);
                    statuses.record(connection, status, TokenStatusRegistry.Kind.ACCESS_TOKEN, jti, subject, finalExpiresAt);
                    leaseStore.insert(connection, lease);
                });

        Map<String, Object> response = new LinkedHashMap<>();
        response.put("access_token", token);
        response.put("issued_token_type", ExchangeRequest.ACCESS_TOKEN_TYPE);
        response.put("token_type", "Bearer");
        response.put("expires_in", Duration.between(issuedAt, finalExpiresAt).toSeconds());
        if (!scope.isEmpty()) {
            response.put("scope", scope);
        }
        return write(response);
    }

    private Task checkTask(String taskId, SpiffeId subject, String audience, List<String> scopes, Instant now, Map<String, String> details) {
        Task task = tasks.find(taskId).orElseThrow(() -> refuse(OAuthException.accessDenied("task '" + clip(taskId) + "' does not exist"),
                subject, details, List.of("unknown task")));
        Task.State state = task.state(now);
        if (state != Task.State.ACTIVE) {
            throw refuse(OAuthException.accessDenied("task " + task.id() + " is " + state.wireName() + "; credentials are granted only under an active task"),
                    subject, details, List.of("task " + state.wireName()));
        }
        if (!task.holder().equals(subject)) {
            throw refuse(OAuthException.accessDenied("task " + task.id() + " is held by " + task.holder() + ", not by " + subject),
                    subject, details, List.of("task holder mismatch"));
        }
        if (!task.allowsResource(audience)) {
            throw refuse(OAuthException.invalidTarget("audience " + audience + " is outside task " + task.id() + "; it allows "
                    + task.allowed()), subject, details, List.of("audience outside task"));
        }
        List<String> outside = scopes.stream().filter(s -> !task.allows(s, audience)).toList();
        if (!outside.isEmpty()) {
            throw refuse(OAuthException.invalidScope("scope(s) " + String.join(" ", outside) + " on " + audience + " are outside task "
                    + task.id() + "; it allows " + task.allowed()), subject, details, List.of("scope outside task"));
        }
        return task;
    }

    private Decision decide(PolicyRequest request) {
        try {
            return policy.decide(request);
        } catch (RuntimeException e) {
            LOG.error("policy engine failed for {}; denying", request.subject(), e);
            return new Decision.Deny(List.of("policy evaluation failed; denied (fail closed)"));
        }
    }

    private Decision.Allow allowOrDeny(Decision decision, SpiffeId who, SpiffeId subject, Map<String, String> details) {
        return switch (decision) {
            case Decision.Allow allow -> allow;
            case Decision.Deny deny -> {
                String reasons = deny.reasons().isEmpty() ? "no policy allows it" : String.join("; ", deny.reasons());
                throw refuse(OAuthException.accessDenied("policy denies " + ACTION + " for " + who + ": " + reasons), subject, details,
                        deny.reasons());
            }
        };
    }

    /** Audits a refusal of a verified subject and returns the exception to throw. */
    private OAuthException refuse(OAuthException refusal, SpiffeId subject, Map<String, String> details, List<String> reasons) {
        Map<String, String> denied = new HashMap<>(details);
        denied.put("error", refusal.error());
        denied.put("reasons", reasons(reasons));
        denied.put("description", clip(refusal.getMessage()));
        refusal.audited();
        try {
            audit.append(AuditEvent.denied(subject.toString(), "token.exchange", subject.toString(), denied));
        } catch (RuntimeException e) {
            LOG.error("cannot audit a refused token exchange for {}: {}", subject, e.getMessage(), e);
        }
        return refusal;
    }

    static String thumbprint(X509Certificate certificate) {
        try {
            return BASE64URL.encodeToString(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot hash the client certificate: " + e.getMessage(), e);
        }
    }

    private static String reasons(List<String> reasons) {
        String text = String.join("; ", reasons).replaceAll("\\p{Cntrl}", "?");
        return text.length() <= 1000 ? text : text.substring(0, 1000) + "...";
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write json: " + e.getMessage(), e);
        }
    }
}
