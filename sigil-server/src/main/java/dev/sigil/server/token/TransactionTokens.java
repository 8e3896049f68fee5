package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.grant.Authorization;
import dev.sigil.server.grant.GrantPipeline;
import dev.sigil.server.grant.GrantRefused;
import dev.sigil.server.grant.GrantRequest;
import dev.sigil.server.task.Task;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The Transaction Token Service profile of token exchange (draft-ietf-oauth-transaction-tokens):
 * {@code requested_token_type=}{@value #TXN_TOKEN_TYPE}. A workload at the edge of a call chain (an API
 * gateway, an agent starting a job) asks for a short-lived token that carries the transaction's subject,
 * its purpose ({@code scope}) and its immutable context ({@code tctx}) to every workload the chain
 * calls; the minted token is a {@link TxnTokenBroker} lease.
 *
 * <p>Guarantees:
 * <ul>
 *   <li><b>The requester is authenticated</b>: by its X.509-SVID over mutual TLS, else by the JWT-SVID
 *       it presents as {@code actor_token}, else (a workload starting its own transaction) by the JWT-SVID
 *       it presents as {@code subject_token}. A bearer access token or transaction token as subject
 *       needs an authenticated requester: whoever merely holds someone's token cannot turn it into
 *       another.</li>
 *   <li><b>Policy decides</b>: action {@value #ACTION}, resource the trust domain name, subject the
 *       requester, scopes the transaction's purpose; a named task must be held by the requester and
 *       allow the scopes on the trust domain, and becomes {@code tctx.task} with its purpose.</li>
 *   <li><b>Never wider than what it came from</b>: with an access token as subject, the requested
 *       scopes must be among the token's (a token without scope gives none); a replacement (a
 *       transaction token as subject) keeps {@code txn}, {@code sub}, {@code aud}, {@code tctx},
 *       {@code rctx} and the task, may only narrow the scope, and appends the requester to
 *       {@code req_wl}. Nothing outlives the token it was derived from, and a revoked or expired
 *       subject token gives nothing.</li>
 *   <li><b>Short-lived</b>: at most {@link TxnTokenBroker#MAX_TTL}, capped by policy, the task's end and the signing
 *       key.</li>
 *   <li><b>Audited like every grant</b>: {@code token.txn}, with the {@code txn}, the subject, the
 *       requester chain and the token's keyed hash; refusals with their reasons.</li>
 * </ul>
 * {@code request_context} and {@code request_details} are JSON objects of at most
 * {@value TxnTokenBroker#MAX_CONTEXT_CHARS} characters; they become {@code rctx} and {@code tctx}, where
 * Sigil's own members ({@code rctx.authn}, {@code rctx.req_wl_trust_domain}, {@code tctx.task}) cannot be
 * set by the requester.
 */
final class TransactionTokens {
    static final String TXN_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:txn_token";
    static final String ACTION = "token:txn";
    private static final int MAX_DEPTH = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
    }

    private final TokenSettings settings;
    private final Authority authority;
    private final JwtSvidVerifier verifier;
    private final IssuedTokens issued;
    private final GrantPipeline grants;
    private final LeaseService leases;
    private final GrantGate gate;
    private final Clock clock;

    TransactionTokens(TokenSettings settings, Authority authority, JwtSvidVerifier verifier, IssuedTokens issued, GrantPipeline grants,
                      LeaseService leases, GrantGate gate, Clock clock) {
        this.settings = settings;
        this.authority = authority;
        this.verifier = verifier;
        this.issued = issued;
        this.grants = grants;
        this.leases = leases;
        this.gate = gate;
        this.clock = clock;
    }

    static boolean requested(Form form) {
        return form.get("requested_token_type").filter(TXN_TOKEN_TYPE::equals).isPresent();
    }

    /** What the subject token establishes: the transaction's subject and what it limits. */
    private record Subject(String sub, Instant issuedAt, Instant expiresAt, Optional<Set<String>> scopeCeiling,
                           Optional<JsonNode> replaced, Optional<SpiffeId> self) {
    }

    /** Returns the JSON success response, or throws {@link OAuthException} (audited by the caller when the requester is known). */
    String issue(Form form, Caller caller) {
        String trustDomain = authority.bundle().trustDomain().name();
        List<String> audiences = form.all("audience");
        if (!form.all("resource").isEmpty()) {
            throw OAuthException.invalidTarget("a txn_token is for a trust domain, not a resource: send audience=" + trustDomain);
        }
        if (audiences.size() != 1 || !audiences.get(0).equals(trustDomain)) {
            throw OAuthException.invalidTarget("the audience of a txn_token must be this trust domain, " + trustDomain
                    + (audiences.isEmpty() ? "; none was given" : "; got '" + clip(String.join(" ", audiences)) + "'"));
        }
        List<String> scopes = scopes(form);
        String subjectToken = form.get("subject_token").orElseThrow(() -> OAuthException.invalidRequest(
                "subject_token is required for a txn_token: the jwt-svid, access token or txn_token of the transaction's subject"));
        String subjectType = form.get("subject_token_type").orElseThrow(() -> OAuthException.invalidRequest("subject_token_type is required"));
        Optional<ObjectNode> requestContext = object(form, "request_context");
        Optional<ObjectNode> requestDetails = object(form, "request_details");
        if (form.get("actor_token_type").isPresent() && form.get("actor_token").isEmpty()) {
            throw OAuthException.invalidRequest("actor_token_type is given without actor_token");
        }

        Subject subject = subject(subjectToken, subjectType);
        Requester requester = requester(form, caller, subject);
        SpiffeId holder = requester.id();

        Optional<String> taskId = form.get("task");
        if (subject.replaced().isPresent()) {
            Optional<String> previous = text(subject.replaced().get(), "tctx", "task", "id");
            if (taskId.isPresent() && !taskId.equals(previous)) {
                throw OAuthException.invalidRequest("a replacement txn_token keeps its task" + previous.map(t -> " " + t).orElse(" (none)")
                        + "; task '" + clip(taskId.get()) + "' cannot be named").presentedBy(holder);
            }
            taskId = previous;
        }
        if (subject.scopeCeiling().isPresent()) {
            Set<String> ceiling = subject.scopeCeiling().get();
            List<String> beyond = scopes.stream().filter(s -> !ceiling.contains(s)).toList();
            if (!beyond.isEmpty()) {
                throw OAuthException.invalidScope("scope " + clip(String.join(" ", beyond)) + " is beyond the subject token's scope '"
                        + clip(String.join(" ", ceiling)) + "': a txn_token can only narrow").presentedBy(holder);
            }
        }
        Optional<String> gated = gate.refusal(holder, requester.issuedAt());
        if (gated.isPresent()) {
            throw OAuthException.accessDenied(gated.get()).presentedBy(holder);
        }

        Map<String, String> details = new HashMap<>();
        details.put("audience", trustDomain);
        details.put("scopes", String.join(" ", scopes));
        details.put("mtls", Boolean.toString(caller.mutualTls()));
        details.put("subject_token_type", subjectType);
        details.put("txn_subject", clip(subject.sub()));
        taskId.ifPresent(id -> details.put("task", clip(id)));
        Duration ttl = TxnTokenBroker.ttl(settings.defaultTtl());
        Instant deadline = authority.jwtSigningDeadline().isBefore(subject.expiresAt()) ? authority.jwtSigningDeadline() : subject.expiresAt();
        Authorization allowed;
        try {
            allowed = grants.authorize(new GrantRequest(holder, Optional.empty(), List.of(), caller.mutualTls(), ACTION,
                    GrantRequest.Target.audience(trustDomain), scopes, taskId, Map.of("txn_subject", subject.sub(), "subject_token_type", subjectType),
                    new GrantRequest.Limits("transaction token", Optional.empty(), ttl, ttl, Optional.of(deadline))),
                    new GrantPipeline.AuditSite("token.txn", details));
        } catch (GrantRefused refused) {
            throw TokenExchange.refusal(refused);
        }
        String scope = String.join(" ", allowed.scopes());
        if (scope.isEmpty()) {
            throw OAuthException.invalidScope("no scope of '" + clip(String.join(" ", scopes)) + "' is granted to " + holder
                    + "; a txn_token needs a purpose").presentedBy(holder);
        }

        String txn;
        ObjectNode tctx;
        ObjectNode rctx;
        ArrayNode chain = JSON.createArrayNode();
        if (subject.replaced().isPresent()) {
            JsonNode previous = subject.replaced().get();
            txn = previous.path("txn").asText();
            tctx = previous.path("tctx") instanceof ObjectNode o ? o : JSON.createObjectNode();
            rctx = previous.path("rctx") instanceof ObjectNode o ? o : JSON.createObjectNode();
            JsonNode earlier = previous.path("req_wl");
            if (earlier.isArray()) {
                earlier.forEach(chain::add);
            } else if (earlier.isTextual()) {
                chain.add(earlier.asText());
            }
            if (chain.size() >= TxnTokenBroker.MAX_REQUESTERS) {
                throw OAuthException.invalidRequest("txn_token " + txn + " was already replaced by " + chain.size()
                        + " workloads; at most " + TxnTokenBroker.MAX_REQUESTERS + " may request it").presentedBy(holder);
            }
        } else {
            txn = UUID.randomUUID().toString();
            tctx = requestDetails.orElseGet(JSON::createObjectNode);
            rctx = requestContext.orElseGet(JSON::createObjectNode);
            reserve(tctx, "request_details", "task");
            reserve(rctx, "request_context", "authn", "req_wl_trust_domain");
            rctx.put("authn", requester.authn());
            rctx.put("req_wl_trust_domain", holder.trustDomain().name());
            allowed.task().ifPresent(task -> tctx.set("task", JSON.createObjectNode().put("id", task.id()).put("purpose", task.purpose())
                    .put("owner", task.owner())));
        }
        chain.add(holder.toString());

        LeaseId leaseId = LeaseId.timeOrdered(clock.instant());
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put(TxnTokenBroker.SCOPE, scope);
        parameters.put(TxnTokenBroker.TXN, txn);
        parameters.put(TxnTokenBroker.SUB, subject.sub());
        parameters.put(TxnTokenBroker.TCTX, write(tctx, "request_details"));
        parameters.put(TxnTokenBroker.RCTX, write(rctx, "request_context"));
        parameters.put(TxnTokenBroker.REQ_WL, write(chain, "req_wl"));
        Instant issuedAt = allowed.issuedAt();
        Instant expiresAt = allowed.expiresAt();
        LeaseGrant grant = new LeaseGrant(leaseId, TxnTokenBroker.TYPE, holder, allowed.task().map(Task::id), trustDomain, issuedAt, expiresAt,
                List.of(), allowed.holder().obligations(), parameters);
        details.put("jti", leaseId.value());
        details.put("txn", txn);
        details.put("scopes", scope);
        details.put("req_wl", String.join(" ", texts(chain)));
        details.put("expires_at", expiresAt.toString());
        details.put("reasons", GrantPipeline.reasons(allowed.reasons()));
        LeaseService.Issued minted = leases.mint(TxnTokenBroker.TYPE, grant, new LeaseService.MintAudit("token.txn", details, "token_hmac"));
        String token = minted.secret().revealToHolder().get("txn_token");

        Map<String, Object> response = new LinkedHashMap<>();
        response.put("access_token", token);
        response.put("issued_token_type", TXN_TOKEN_TYPE);
        response.put("token_type", "N_A");
        response.put("expires_in", Duration.between(issuedAt, expiresAt).toSeconds());
        response.put("scope", scope);
        return write(response, "response");
    }

    /** The authenticated requesting workload, how it authenticated, and when its credential was minted (for drift gates). */
    private record Requester(SpiffeId id, String authn, Instant issuedAt) {
    }

    private Requester requester(Form form, Caller caller, Subject subject) {
        if (caller.mtlsId().isPresent()) {
            Instant notBefore = caller.clientCertificate().orElseThrow().getNotBefore().toInstant().plus(Authority.X509_BACKDATE);
            if (form.get("actor_token").isPresent()) {
                throw OAuthException.invalidRequest("the requester is authenticated by its x509-svid; do not send an actor_token as well");
            }
            return new Requester(caller.mtlsId().get(), "x509-svid", notBefore);
        }
        Optional<String> actorToken = form.get("actor_token");
        if (actorToken.isPresent()) {
            String type = form.get("actor_token_type").orElseThrow(() -> OAuthException.invalidRequest("actor_token_type is required"));
            if (!type.equals(ExchangeRequest.JWT_TYPE)) {
                throw OAuthException.invalidRequest("actor_token_type '" + clip(type) + "' is not supported; the requester's actor_token is a jwt-svid ("
                        + ExchangeRequest.JWT_TYPE + ")");
            }
            JwtSvidVerifier.Verified verified = verifier.verify(actorToken.get(), "actor_token", Set.of(settings.audience()));
            return new Requester(verified.subject(), "jwt-svid", TokenExchange.issuedAt(verified));
        }
        if (subject.self().isPresent()) {
            return new Requester(subject.self().get(), "jwt-svid", subject.issuedAt());
        }
        throw OAuthException.invalidClient("a txn_token for a bearer subject token needs an authenticated requester: connect with "
                + "the requesting workload's x509-svid over mutual tls, or send its jwt-svid as actor_token");
    }

    private Subject subject(String token, String type) {
        switch (type) {
            case ExchangeRequest.JWT_TYPE -> {
                JwtSvidVerifier.Verified verified = verifier.verify(token, "subject_token", Set.of(settings.audience()));
                return new Subject(verified.subject().toString(), TokenExchange.issuedAt(verified), verified.claims().getExpirationTime().toInstant(), Optional.empty(),
                        Optional.empty(), Optional.of(verified.subject()));
            }
            case ExchangeRequest.ACCESS_TOKEN_TYPE -> {
                JwtSvidVerifier.Verified verified = verifier.verifyAccessToken(token, "subject_token");
                IssuedTokens.Row row = active(verified, "access token");
                Set<String> ceiling = row.scope().isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(row.scope().split(" ")));
                return new Subject(verified.subject().toString(), row.issuedAt(), row.expiresAt(), Optional.of(ceiling), Optional.empty(), Optional.empty());
            }
            case TXN_TOKEN_TYPE -> {
                JwtSvidVerifier.Verified verified = verifier.verifyTxnToken(token, "subject_token");
                String trustDomain = authority.bundle().trustDomain().name();
                if (verified.claims().getAudience() == null || !verified.claims().getAudience().equals(List.of(trustDomain))) {
                    throw OAuthException.invalidRequest("subject_token is a txn_token for another trust domain; its aud must be " + trustDomain);
                }
                IssuedTokens.Row row = active(verified, "txn_token");
                JsonNode claims = JSON.valueToTree(verified.claims().toJSONObject());
                Set<String> ceiling = new LinkedHashSet<>(List.of(row.scope().split(" ")));
                return new Subject(verified.subject().toString(), row.issuedAt(), row.expiresAt(), Optional.of(ceiling), Optional.of(claims), Optional.empty());
            }
            default -> throw OAuthException.invalidRequest("subject_token_type '" + clip(type) + "' is not supported for a txn_token; use "
                    + ExchangeRequest.JWT_TYPE + " (a jwt-svid), " + ExchangeRequest.ACCESS_TOKEN_TYPE + " (an access token of this server) or "
                    + TXN_TOKEN_TYPE + " (a replacement)");
        }
    }

    /** The registry row of a token this server issued, which must be neither revoked nor expired (fail closed: no row, no token). */
    private IssuedTokens.Row active(JwtSvidVerifier.Verified verified, String what) {
        String jti = verified.claims().getJWTID();
        Optional<IssuedTokens.Row> row = jti == null ? Optional.empty() : issued.find(jti);
        if (row.isEmpty()) {
            throw OAuthException.invalidRequest("subject_token is no " + what + " this server issued").presentedBy(verified.subject());
        }
        if (row.get().revokedAt().isPresent()) {
            throw OAuthException.invalidRequest("subject_token " + what + " " + jti + " was revoked").presentedBy(verified.subject());
        }
        if (!row.get().expiresAt().isAfter(clock.instant())) {
            throw OAuthException.invalidRequest("subject_token " + what + " " + jti + " expired at " + row.get().expiresAt())
                    .presentedBy(verified.subject());
        }
        return row.get();
    }

    private static List<String> scopes(Form form) {
        String scope = form.get("scope").orElseThrow(() -> OAuthException.invalidRequest(
                "scope is required for a txn_token: name the transaction's purpose"));
        List<String> scopes = List.of(scope.trim().split(" +"));
        if (scopes.size() > ExchangeRequest.MAX_SCOPES) {
            throw OAuthException.invalidScope("at most " + ExchangeRequest.MAX_SCOPES + " scopes may be requested, got " + scopes.size());
        }
        for (String s : scopes) {
            if (!s.matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}")) {
                throw OAuthException.invalidScope("scope '" + clip(s) + "' is malformed (RFC 6749 section 3.3)");
            }
        }
        return List.copyOf(new LinkedHashSet<>(scopes));
    }

    private static Optional<ObjectNode> object(Form form, String name) {
        Optional<String> text = form.get(name);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        if (text.get().length() > TxnTokenBroker.MAX_CONTEXT_CHARS) {
            throw OAuthException.invalidRequest(name + " is " + text.get().length() + " characters long; at most "
                    + TxnTokenBroker.MAX_CONTEXT_CHARS + " are accepted");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text.get());
        } catch (JsonProcessingException e) {
            throw OAuthException.invalidRequest(name + " is not json: " + clip(e.getOriginalMessage()));
        }
        if (!(node instanceof ObjectNode object)) {
            throw OAuthException.invalidRequest(name + " must be a json object");
        }
        return Optional.of(object);
    }

    private static void reserve(ObjectNode object, String parameter, String... names) {
        for (String name : names) {
            if (object.has(name)) {
                throw OAuthException.invalidRequest(parameter + " must not set '" + name + "': the token service asserts it");
            }
        }
    }

    private static Optional<String> text(JsonNode node, String... path) {
        JsonNode at = node;
        for (String step : path) {
            at = at.path(step);
        }
        return at.isTextual() ? Optional.of(at.asText()) : Optional.empty();
    }

    private static List<String> texts(ArrayNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

    private static String write(Object value, String what) {
        try {
            String text = JSON.writeValueAsString(value);
            if (!what.equals("response") && text.length() > TxnTokenBroker.MAX_CONTEXT_CHARS) {
                throw OAuthException.invalidRequest(what + " is too large for a txn_token: at most " + TxnTokenBroker.MAX_CONTEXT_CHARS + " characters");
            }
            return text;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write json: " + e.getMessage(), e);
        }
    }
}
