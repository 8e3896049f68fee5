package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.grant.Authorization;
import dev.sigil.server.grant.GrantPipeline;
import dev.sigil.server.grant.GrantRefused;
import dev.sigil.server.grant.GrantRequest;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.resource.ProtectedResource;
import dev.sigil.server.resource.ResourceCatalog;
import dev.sigil.server.task.Task;
import dev.sigil.server.task.TaskStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
    private final GrantPipeline grants;
    private final LeaseService leases;
    private final BrokeredExchange brokered;
    private final GrantGate gate;
    private final AuditTrail audit;
    private final TransactionTokens transactions;
    private final ResourceCatalog resources;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();

    TokenExchange(TokenSettings settings, Authority authority, JwtSvidVerifier verifier, PolicyEngine policy, TaskStore tasks,
                  LeaseService leases, GrantGate gate, AuditTrail audit, Clock clock, SubjectEvidence evidence, IssuedTokens issued,
                  ResourceCatalog resources) {
        this.settings = settings;
        this.authority = authority;
        this.verifier = verifier;
        this.grants = new GrantPipeline(policy, tasks::find, evidence, audit, clock);
        this.leases = leases;
        this.brokered = new BrokeredExchange(leases, clock);
        this.gate = gate;
        this.audit = audit;
        this.resources = resources;
        this.clock = clock;
        this.transactions = new TransactionTokens(settings, authority, verifier, issued, grants, leases, gate, clock);
    }

    /** When the JWT-SVID was minted ({@code iat}); without {@code iat}, the epoch, so any gate refuses it (fail closed). */
    static Instant issuedAt(JwtSvidVerifier.Verified verified) {
        java.util.Date iat = verified.claims().getIssueTime();
        return iat == null ? Instant.EPOCH : iat.toInstant();
    }

    /** Returns the JSON success response, or throws {@link OAuthException} for a refusal. */
    String exchange(Form form, Caller caller) {
        boolean transaction = TransactionTokens.requested(form);
        try {
            return transaction ? transactions.issue(form, caller) : exchangeAudited(form, caller);
        } catch (OAuthException e) {
            // A refusal once the caller is known (a genuine but revoked or wrong-typed token, a certificate
            // that is neither subject nor actor, a malformed scope or target from a verified caller) is
            // audited like a policy denial; only refusals of callers nobody could identify are not.
            if (!e.isAudited()) {
                Optional<SpiffeId> who = e.presentedBy().or(() -> identify(form, caller));
                who.ifPresent(subject -> refuse(e, subject, Map.of(), List.of(e.error()), transaction ? "token.txn" : "token.exchange"));
            }
            throw e;
        }
    }

    /** The caller of a refused request, when it can be told: its verified subject token, else its certificate. */
    private Optional<SpiffeId> identify(Form form, Caller caller) {
        Optional<String> token = form.get("subject_token").or(() -> form.get("assertion")).or(() -> form.get("client_assertion"));
        if (token.isPresent()) {
            try {
                return Optional.of(verifier.verifyFederated(token.get(), "subject_token", clientAssertionAudiences()).subject());
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
            JwtSvidVerifier.Verified verified = verifyGrant(request, subjectToken.get());
            subject = verified.subject();
            subjectIssuedAt = issuedAt(verified);
            if (request.clientId().isPresent() && !request.clientId().get().equals(subject.toString())) {
                throw OAuthException.invalidClient("client_id " + clip(request.clientId().get()) + " is not the " + request.subjectName()
                        + "'s spiffe id " + subject).presentedBy(subject);
            }
        } else if (request.grantType().equals(ExchangeRequest.JWT_BEARER)) {
            throw OAuthException.invalidRequest("assertion is required for the jwt-bearer grant");
        } else if (caller.mtlsId().isPresent()) {
            subject = caller.mtlsId().get();
            subjectIssuedAt = caller.clientCertificate().orElseThrow().getNotBefore().toInstant().plus(Authority.X509_BACKDATE);
        } else if (request.grantType().equals(ExchangeRequest.CLIENT_CREDENTIALS)) {
            throw OAuthException.invalidClient("the client_credentials grant needs an authenticated client: send its jwt-svid as "
                    + "client_assertion, or connect with its x509-svid over mutual tls");
        } else {
            throw OAuthException.invalidRequest("subject_token is required unless the client authenticates with an x509-svid over mutual tls");
        }

        Optional<SpiffeId> actor = Optional.empty();
        Instant actorIssuedAt = Instant.EPOCH;
        List<SpiffeId> chain = new ArrayList<>();
        if (request.actorToken().isPresent()) {
            JwtSvidVerifier.Verified verified = verifier.verifyFederated(request.actorToken().get(), "actor_token", Set.of(settings.audience()));
            actor = Optional.of(verified.subject());
            actorIssuedAt = issuedAt(verified);
            // the actor token is a jwt-svid, which never carries act: delegation is one level deep, and a
            // chain can be neither copied from nor smuggled in through the actor's token (the token broker
            // writes act from this one-element chain)
            chain.add(verified.subject());
        }
        if (caller.mtlsId().isPresent() && subjectToken.isPresent()
                && !caller.mtlsId().get().equals(subject) && !actor.map(caller.mtlsId().get()::equals).orElse(false)) {
            throw OAuthException.invalidRequest("the client certificate's spiffe id " + caller.mtlsId().get()
                    + " is neither the subject nor the actor of this exchange");
        }
        if (request.subjectToken().isEmpty() && request.clientId().isPresent() && !request.clientId().get().equals(subject.toString())) {
            throw OAuthException.invalidClient("client_id " + clip(request.clientId().get()) + " is not the client certificate's spiffe id "
                    + subject).presentedBy(subject);
        }

        String audience = request.brokered() ? request.audience() : registered(request.audience(), request.scopes(), subject);
        List<String> scopes = request.scopes();
        Optional<String> taskId = request.task();
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
            throw refuse(OAuthException.accessDenied(gated.get()), subject, details, List.of("drift gate"), "token.exchange");
        }
        if (request.brokered()) {
            return brokered.issue(request.requestedTokenType().orElseThrow(), subject, caller.mtlsId().map(subject::equals).orElse(false), chain, audience, taskId);
        }

        Authorization allowed;
        try {
            allowed = grants.authorize(new GrantRequest(subject, actor, chain, caller.mutualTls(), ACTION, GrantRequest.Target.audience(audience),
                    scopes, taskId, Map.of(), new GrantRequest.Limits("token", Optional.empty(), settings.defaultTtl(),
                    settings.defaultTtl(), Optional.of(authority.jwtSigningDeadline()))), new GrantPipeline.AuditSite("token.exchange", details));
        } catch (GrantRefused refused) {
            throw refusal(refused);
        }
        Optional<Task> task = allowed.task();
        Set<String> granted = allowed.scopes();
        Instant issuedAt = allowed.issuedAt();
        Instant expiresAt = allowed.expiresAt();

        // The jti is the token's lease id, so lease commands address the token; time-ordered, because one
        // is inserted into two primary keys (lease and token registry) per exchange. To the millisecond, not
        // the whole second of iat: the ids of one second would otherwise land all over that second's pages.
        LeaseId leaseId = LeaseId.timeOrdered(clock.instant());
        String scope = String.join(" ", granted);
        Map<String, String> parameters = new LinkedHashMap<>();
        if (!scope.isEmpty()) {
            parameters.put(TokenBroker.SCOPE, scope);
        }
        // RFC 9068 section 2.2: the client that asked, the mutual TLS peer or else the actor or the subject
        parameters.put(TokenBroker.CLIENT_ID, caller.mtlsId().orElse(actor.orElse(subject)).toString());
        caller.clientCertificate().map(TokenExchange::thumbprint).ifPresent(x5t -> parameters.put(TokenBroker.CNF_X5T, x5t));
        LeaseGrant grant = new LeaseGrant(leaseId, TokenBroker.TYPE, subject, task.map(Task::id), audience, issuedAt, expiresAt, chain,
                allowed.holder().obligations(), parameters);
        details.put("jti", leaseId.value());
        details.put("scopes", scope);
        details.put("expires_at", expiresAt.toString());
        details.put("reasons", GrantPipeline.reasons(allowed.reasons()));
        // Minted by the token broker; its registry row, status entry, lease and this audit record commit
        // together (no record, no token), group-committed with concurrent exchanges.
        LeaseService.Issued minted = leases.mint(TokenBroker.TYPE, grant, new LeaseService.MintAudit("token.exchange", details, "token_hmac"));
        String token = minted.secret().revealToHolder().get("access_token");

        Map<String, Object> response = new LinkedHashMap<>();
        response.put("access_token", token);
        response.put("issued_token_type", ExchangeRequest.ACCESS_TOKEN_TYPE);
        response.put("token_type", "Bearer");
        response.put("expires_in", Duration.between(issuedAt, expiresAt).toSeconds());
        if (!scope.isEmpty()) {
            response.put("scope", scope);
        }
        return write(response);
    }

    /**
     * The subject's JWT-SVID, verified; named as the request names it. A bad {@code assertion} is
     * {@code invalid_grant} (RFC 7523 section 3.1) and a bad {@code client_assertion} {@code invalid_client}
     * (section 3.2); a client assertion may also carry the issuer as its audience (draft-ietf-oauth-rfc7523bis).
     */
    private JwtSvidVerifier.Verified verifyGrant(ExchangeRequest request, String token) {
        Set<String> audiences = request.subjectName().equals("client_assertion") ? clientAssertionAudiences() : Set.of(settings.audience());
        try {
            return verifier.verifyFederated(token, request.subjectName(), audiences);
        } catch (OAuthException e) {
            if (e.error().equals("invalid_request") && request.subjectName().equals("assertion")) {
                throw rethrown(OAuthException.invalidGrant(e.getMessage()), e);
            }
            if (e.error().equals("invalid_request") && request.subjectName().equals("client_assertion")) {
                throw rethrown(OAuthException.invalidClient(e.getMessage()), e);
            }
            throw e;
        }
    }

    /** The token service's JWT-SVID audience, and its issuer identifier (the audience draft-ietf-oauth-rfc7523bis asks of client assertions). */
    private Set<String> clientAssertionAudiences() {
        return new java.util.LinkedHashSet<>(List.of(settings.audience(), settings.issuer()));
    }

    private static OAuthException rethrown(OAuthException replacement, OAuthException original) {
        original.presentedBy().ifPresent(replacement::presentedBy);
        return replacement;
    }

    /**
     * RFC 8707 with RFC 9728: a token for a registered resource is for its canonical URI (what policy and
     * {@code aud} see) and may carry only the scopes that resource defines (its {@code scopes_supported});
     * an unregistered audience is left to policy alone, as sent.
     */
    private String registered(String audience, List<String> scopes, SpiffeId subject) {
        Optional<ProtectedResource> resource = resources.find(audience);
        if (resource.isEmpty()) {
            return audience;
        }
        List<String> unknown = scopes.stream().filter(scope -> !resource.get().scopes().contains(scope)).toList();
        if (!unknown.isEmpty()) {
            throw OAuthException.invalidScope("scope " + clip(String.join(" ", unknown)) + " is not defined by resource " + resource.get().uri()
                    + "; it defines " + String.join(" ", resource.get().scopes())).presentedBy(subject);
        }
        return resource.get().uri();
    }

    /** The token endpoint's answer to a refusal the grant pipeline has already audited. */
    static OAuthException refusal(GrantRefused refused) {
        OAuthException refusal = switch (refused.kind()) {
            case ACCESS_DENIED -> OAuthException.accessDenied(refused.getMessage());
            case INVALID_TARGET -> OAuthException.invalidTarget(refused.getMessage());
            case INVALID_SCOPE -> OAuthException.invalidScope(refused.getMessage());
        };
        return refusal.audited();
    }

    /** Audits a refusal of a verified subject and returns the exception to throw. */
    private OAuthException refuse(OAuthException refusal, SpiffeId subject, Map<String, String> details, List<String> reasons, String action) {
        Map<String, String> denied = new HashMap<>(details);
        denied.put("error", refusal.error());
        denied.put("reasons", GrantPipeline.reasons(reasons));
        denied.put("description", clip(refusal.getMessage()));
        refusal.audited();
        try {
            audit.append(AuditEvent.denied(subject.toString(), action, subject.toString(), denied));
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

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write json: " + e.getMessage(), e);
        }
    }
}
