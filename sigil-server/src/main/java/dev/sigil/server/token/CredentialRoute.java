package dev.sigil.server.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.time.Durations;
import dev.sigil.server.credential.LeaseException;
import dev.sigil.server.credential.LeaseService;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code POST /v1/credentials}: a workload asks for a brokered credential for itself. The caller is
 * the holder, proven by a JWT-SVID bearer token (audience: the token service's) or by its X.509-SVID
 * over mutual TLS; when both are present they must name the same workload. Body
 * {@code {broker, resource, task?, ttl?, parameters?}} ({@code ttl} as {@code "10m"} or seconds);
 * the answer carries the secret once. Refusals are {@code {error, error_description}} with 400, 401
 * or 403; 503 when the backend is down.
 */
final class CredentialRoute {
    static final String PATH = "/v1/credentials";
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final LeaseService leases;
    private final JwtSvidVerifier verifier;
    private final TokenSettings settings;
    private final GrantGate gate;

    CredentialRoute(LeaseService leases, JwtSvidVerifier verifier, TokenSettings settings, GrantGate gate) {
        this.leases = leases;
        this.gate = gate;
        this.verifier = verifier;
        this.settings = settings;
    }

    String issue(String body, Caller caller) {
        Proof proof = holder(caller);
        SpiffeId holder = proof.holder();
        Optional<String> gated = gate.refusal(holder, proof.issuedAt());
        if (gated.isPresent()) {
            throw OAuthException.accessDenied(gated.get());
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw OAuthException.invalidRequest("the body is not json: " + dev.sigil.core.Printable.clip(String.valueOf(e.getOriginalMessage())));
        }
        if (json == null || !json.isObject()) {
            throw OAuthException.invalidRequest("the body must be a json object {broker, resource, task?, ttl?, parameters?}");
        }
        for (var names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!Set.of("broker", "resource", "task", "ttl", "parameters").contains(name)) {
                throw OAuthException.invalidRequest("unknown field '" + dev.sigil.core.Printable.clip(name) + "'; use broker, resource, task, ttl, parameters");
            }
        }
        String broker = text(json, "broker").orElseThrow(() -> OAuthException.invalidRequest("broker is required"));
        String resource = text(json, "resource").orElseThrow(() -> OAuthException.invalidRequest("resource is required"));
        Optional<String> task = text(json, "task");
        Optional<Duration> ttl = ttl(json.get("ttl"));
        Map<String, String> parameters = new LinkedHashMap<>();
        JsonNode params = json.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw OAuthException.invalidRequest("parameters must be an object of strings");
            }
            params.fields().forEachRemaining(e -> {
                if (!e.getValue().isTextual()) {
                    throw OAuthException.invalidRequest("parameter '" + dev.sigil.core.Printable.clip(e.getKey()) + "' must be a string");
                }
                parameters.put(e.getKey(), e.getValue().asText());
            });
        }
        boolean mtls = caller.mtlsId().map(holder::equals).orElse(false);
        LeaseService.Issued issued;
        try {
            issued = leases.issue(new LeaseService.IssueRequest(holder, mtls, List.of(), broker, resource, task, ttl, parameters));
        } catch (LeaseException e) {
            throw new OAuthException(e.status(), e.error(), e.getMessage());
        }
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("lease_id", issued.lease().id().value());
        response.put("broker", issued.lease().broker());
        response.put("resource", issued.lease().resource());
        issued.lease().task().ifPresent(t -> response.put("task", t));
        response.put("expires_at", issued.lease().expiresAt().toString());
        response.put("max_expires_at", issued.lease().maxExpiresAt().toString());
        response.put("credential", issued.secret().revealToHolder());
        response.put("details", issued.lease().details());
        try {
            return JSON.writeValueAsString(response);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the credential response: " + e.getOriginalMessage(), e);
        }
    }

    /** Who the caller proved to be, and when the credential it proved it with was minted. */
    private record Proof(SpiffeId holder, java.time.Instant issuedAt) {}

    private Proof holder(Caller caller) {
        if (caller.bearer().isPresent()) {
            SpiffeId subject;
            java.time.Instant issuedAt;
            try {
                JwtSvidVerifier.Verified verified = verifier.verify(caller.bearer().get(), "bearer token", Set.of(settings.audience()));
                subject = verified.subject();
                issuedAt = TokenExchange.issuedAt(verified);
            } catch (OAuthException e) {
                throw OAuthException.invalidClient(e.getMessage());
            }
            if (caller.mtlsId().isPresent() && !caller.mtlsId().get().equals(subject)) {
                throw OAuthException.invalidRequest("the client certificate's spiffe id " + caller.mtlsId().get()
                        + " differs from the bearer jwt-svid's " + subject);
            }
            return new Proof(subject, issuedAt);
        }
        SpiffeId id = caller.mtlsId().orElseThrow(() -> OAuthException.invalidClient(
                "authenticate with a jwt-svid bearer token (audience " + settings.audience() + ") or an x509-svid over mutual tls"));
        return new Proof(id, caller.clientCertificate().orElseThrow().getNotBefore().toInstant()
                .plus(dev.sigil.server.authority.Authority.X509_BACKDATE));
    }

    private static Optional<String> text(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual() || value.asText().isEmpty()) {
            throw OAuthException.invalidRequest(field + " must be a non-empty string");
        }
        return Optional.of(value.asText());
    }

    private static Optional<Duration> ttl(JsonNode value) {
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        try {
            Duration ttl = value.isIntegralNumber() ? Duration.ofSeconds(value.asLong()) : Durations.parse(value.asText());
            if (ttl.toSeconds() < 1) {
                throw OAuthException.invalidRequest("ttl " + dev.sigil.core.Printable.clip(value.asText()) + " must be at least one second");
            }
            return Optional.of(ttl);
        } catch (IllegalArgumentException e) {
            throw OAuthException.invalidRequest("ttl '" + dev.sigil.core.Printable.clip(value.asText()) + "' is not a duration such as 10m or 600");
        }
    }
}
