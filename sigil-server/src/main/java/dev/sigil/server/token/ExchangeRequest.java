package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The parameters of an RFC 8693 token exchange request, checked for form before anything is verified:
 * the grant type, the requested and presented token types, exactly one target ({@code audience} or
 * {@code resource}) of at most {@value #MAX_TARGET} characters without spaces or control characters,
 * and at most {@value #MAX_SCOPES} RFC 6749 scope tokens. Refusals are {@link OAuthException}s whose
 * descriptions quote what the client sent through {@link dev.sigil.core.Printable}.
 *
 * @param subjectToken absent when the client authenticates with its x509-svid instead
 * @param scopes       deduplicated, in request order; empty when none were asked for
 */
record ExchangeRequest(String grantType, Optional<String> requestedTokenType, Optional<String> subjectToken, String subjectName,
                       Optional<String> actorToken, String audience, List<String> scopes, Optional<String> task, Optional<String> clientId) {
    static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";
    /** RFC 7523 section 2.1: a JWT (here a JWT-SVID) as the authorization grant; the MCP workload identity federation shape. */
    static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    /** RFC 6749 section 4.4, the client authenticated by its JWT-SVID ({@code client_assertion}) or its X.509-SVID (mutual TLS). */
    static final String CLIENT_CREDENTIALS = "client_credentials";
    /** draft-ietf-oauth-spiffe-client-auth: a JWT-SVID as client assertion. */
    static final String JWT_SPIFFE_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
    /** RFC 7523 section 2.2: a JWT as client assertion (accepted when it is a JWT-SVID). */
    static final String JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
    static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
    private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}");
    static final int MAX_SCOPES = 32;
    static final int MAX_TARGET = 512;

    ExchangeRequest {
        scopes = List.copyOf(scopes);
    }

    /** True when the client asks for a brokered credential rather than an access token. */
    boolean brokered() {
        return requestedTokenType.filter(type -> type.startsWith(BrokeredExchange.TYPE_PREFIX)).isPresent();
    }

    /** @throws OAuthException naming the first parameter that is missing, repeated or malformed */
    static ExchangeRequest parse(Form form) {
        String grantType = form.get("grant_type").orElseThrow(() -> OAuthException.invalidRequest("grant_type is required"));
        return switch (grantType) {
            case GRANT_TYPE -> tokenExchange(form);
            case JWT_BEARER -> jwtBearer(form);
            case CLIENT_CREDENTIALS -> clientCredentials(form);
            default -> throw new OAuthException(400, "unsupported_grant_type", "grant_type '" + clip(grantType) + "' is not supported; use "
                    + GRANT_TYPE + ", " + JWT_BEARER + " or " + CLIENT_CREDENTIALS);
        };
    }

    private static ExchangeRequest tokenExchange(Form form) {
        if (form.get("client_assertion").isPresent() || form.get("assertion").isPresent()) {
            throw OAuthException.invalidRequest("token exchange takes subject_token (and actor_token), not an assertion; "
                    + "authenticate the client with its x509-svid over mutual tls");
        }
        Optional<String> requested = form.get("requested_token_type");
        requested.ifPresent(type -> {
            if (!type.equals(ACCESS_TOKEN_TYPE) && !type.equals(JWT_TYPE) && !type.startsWith(BrokeredExchange.TYPE_PREFIX)) {
                throw OAuthException.invalidRequest("requested_token_type '" + clip(type) + "' is not supported; use " + ACCESS_TOKEN_TYPE
                        + " or " + BrokeredExchange.TYPE_PREFIX + "<broker>");
            }
        });
        Optional<String> subjectToken = token(form, "subject_token");
        Optional<String> actorToken = token(form, "actor_token");
        return new ExchangeRequest(GRANT_TYPE, requested, subjectToken, "subject_token", actorToken, target(form), scopes(form),
                form.get("task"), form.get("client_id"));
    }

    /** RFC 7523 section 2.1: {@code assertion} is the workload's JWT-SVID; it asks for an access token for one resource. */
    private static ExchangeRequest jwtBearer(Form form) {
        onlyAccessTokens(form, JWT_BEARER);
        for (String name : List.of("subject_token", "actor_token", "client_assertion")) {
            if (form.get(name).isPresent()) {
                throw OAuthException.invalidRequest(name + " is not a parameter of the jwt-bearer grant; send the jwt-svid as assertion");
            }
        }
        String assertion = form.get("assertion").orElseThrow(() -> OAuthException.invalidRequest(
                "assertion is required for the jwt-bearer grant: the workload's jwt-svid"));
        return new ExchangeRequest(JWT_BEARER, Optional.empty(), Optional.of(assertion), "assertion", Optional.empty(), target(form),
                scopes(form), form.get("task"), form.get("client_id"));
    }

    /**
     * RFC 6749 section 4.4 with a SPIFFE client: {@code client_assertion} (type {@value #JWT_SPIFFE_ASSERTION} or
     * {@value #JWT_BEARER_ASSERTION}) is its JWT-SVID; without one, the client's X.509-SVID from mutual TLS.
     */
    private static ExchangeRequest clientCredentials(Form form) {
        onlyAccessTokens(form, CLIENT_CREDENTIALS);
        for (String name : List.of("subject_token", "actor_token", "assertion")) {
            if (form.get(name).isPresent()) {
                throw OAuthException.invalidRequest(name + " is not a parameter of the client_credentials grant; the client is the subject");
            }
        }
        Optional<String> assertion = form.get("client_assertion");
        Optional<String> type = form.get("client_assertion_type");
        if (assertion.isPresent() != type.isPresent()) {
            throw OAuthException.invalidRequest(assertion.isPresent() ? "client_assertion_type is required with client_assertion"
                    : "client_assertion_type is given without client_assertion");
        }
        if (type.isPresent() && !type.get().equals(JWT_SPIFFE_ASSERTION) && !type.get().equals(JWT_BEARER_ASSERTION)) {
            throw OAuthException.invalidClient("client_assertion_type '" + clip(type.get()) + "' is not supported; use "
                    + JWT_SPIFFE_ASSERTION + " (a jwt-svid) or " + JWT_BEARER_ASSERTION);
        }
        return new ExchangeRequest(CLIENT_CREDENTIALS, Optional.empty(), assertion, "client_assertion", Optional.empty(), target(form),
                scopes(form), form.get("task"), form.get("client_id"));
    }

    private static void onlyAccessTokens(Form form, String grantType) {
        form.get("requested_token_type").filter(type -> !type.equals(ACCESS_TOKEN_TYPE)).ifPresent(type -> {
            throw OAuthException.invalidRequest("the " + grantType + " grant issues access tokens only; requested_token_type '" + clip(type)
                    + "' needs token exchange (" + GRANT_TYPE + ")");
        });
    }

    /** A presented token, which must come with its type: a jwt-svid. */
    private static Optional<String> token(Form form, String name) {
        Optional<String> token = form.get(name);
        String typeName = name + "_type";
        if (token.isEmpty()) {
            if (form.get(typeName).isPresent()) {
                throw OAuthException.invalidRequest(typeName + " is given without " + name);
            }
            return token;
        }
        String type = form.get(typeName).orElseThrow(() -> OAuthException.invalidRequest(typeName + " is required"));
        if (!type.equals(JWT_TYPE)) {
            throw OAuthException.invalidRequest(typeName + " '" + clip(type) + "' is not supported; use " + JWT_TYPE + " (a jwt-svid)");
        }
        return token;
    }

    private static String target(Form form) {
        Set<String> targets = new LinkedHashSet<>(form.all("audience"));
        targets.addAll(form.all("resource"));
        if (targets.isEmpty()) {
            throw OAuthException.invalidRequest("audience or resource is required: name the service the token is for");
        }
        if (targets.size() > 1) {
            throw OAuthException.invalidTarget("exactly one audience or resource is supported per token, got " + targets.size());
        }
        String target = targets.iterator().next();
        if (target.length() > MAX_TARGET || target.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw OAuthException.invalidTarget("audience must be at most " + MAX_TARGET + " characters without spaces");
        }
        return target;
    }

    private static List<String> scopes(Form form) {
        Optional<String> scope = form.get("scope");
        if (scope.isEmpty()) {
            return List.of();
        }
        List<String> scopes = List.of(scope.get().trim().split(" +"));
        if (scopes.size() > MAX_SCOPES) {
            throw OAuthException.invalidScope("at most " + MAX_SCOPES + " scopes may be requested, got " + scopes.size());
        }
        for (String s : scopes) {
            if (!SCOPE_TOKEN.matcher(s).matches()) {
                throw OAuthException.invalidScope("scope '" + clip(s) + "' is malformed (RFC 6749 section 3.3)");
            }
        }
        return List.copyOf(new LinkedHashSet<>(scopes));
    }
}
