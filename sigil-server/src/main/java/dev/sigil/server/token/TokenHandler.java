package dev.sigil.server.token;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.http.JsonResponses;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TrustBundleSource;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OAuth endpoints over HTTP: {@code POST /oauth2/token}, {@code /oauth2/introspect},
 * {@code /oauth2/revoke}, each with a form-encoded body of at most {@value #MAX_BODY_BYTES} bytes.
 * {@code GET} {@value #METADATA_PATH} describes them (RFC 8414, public information only: the issuer,
 * the endpoint URLs and {@code sigil_jwt_svid_audience}, the audience a JWT-SVID presented here must
 * carry), so that a workload needs only the service's URL.
 * Client mistakes are RFC 6749 error JSON with 400/401/403; only server faults are 5xx, with an
 * incident id and no detail.
 */
final class TokenHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(TokenHandler.class);
    static final int MAX_BODY_BYTES = 16 * 1024;
    private static final String FORM = "application/x-www-form-urlencoded";
    private static final String JSON = "application/json";
    /** RFC 8414 authorization server metadata: where the endpoints are and which audience JWT-SVIDs need. */
    static final String METADATA_PATH = "/.well-known/oauth-authorization-server";

    private final TokenService service;
    private final TrustBundleSource bundle;
    private final Optional<CredentialRoute> credentials;
    private final Duration requestTimeout;

    TokenHandler(TokenService service, TrustBundleSource bundle, Optional<CredentialRoute> credentials, Duration requestTimeout) {
        this.service = service;
        this.bundle = bundle;
        this.credentials = credentials;
        this.requestTimeout = requestTimeout;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.PRAGMA, "no-cache");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        String path = request.getHttpURI().getPath();
        try {
            if (path.equals(METADATA_PATH)) {
                metadata(request, response, callback);
                return true;
            }
            boolean credential = path.equals(CredentialRoute.PATH) && credentials.isPresent();
            if (!credential && !path.equals("/oauth2/token") && !path.equals("/oauth2/introspect") && !path.equals("/oauth2/revoke")) {
                JsonResponses.send(response, callback, 404, new OAuthException(404, "invalid_request",
                        "no endpoint at " + dev.sigil.core.Printable.clip(path) + "; use /oauth2/token, /oauth2/introspect or /oauth2/revoke").json());
                return true;
            }
            if (!request.getMethod().equalsIgnoreCase("POST")) {
                response.getHeaders().put(HttpHeader.ALLOW, "POST");
                JsonResponses.send(response, callback, 405, new OAuthException(405, "invalid_request", path + " accepts only POST").json());
                return true;
            }
            Caller caller = caller(request);
            String expected = credential ? JSON : FORM;
            checkBody(request, expected);
            // Read the body without holding a thread: a client trickling it in holds a connection, not a
            // worker, and loses it when the request is not complete within the request timeout.
            Content.Source.asByteArrayAsync(request, MAX_BODY_BYTES)
                    .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((bytes, failure) -> {
                        if (failure != null) {
                            refuseBody(failure, response, callback);
                        } else {
                            respond(path, credential, caller, bytes, response, callback);
                        }
                    });
        } catch (OAuthException e) {
            sendRefusal(path, e, response, callback);
        } catch (RuntimeException | Error e) {
            sendFault(path, e, response, callback);
        }
        return true;
    }

    private void metadata(Request request, Response response, Callback callback) {
        if (!request.getMethod().equalsIgnoreCase("GET")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET");
            JsonResponses.send(response, callback, 405, new OAuthException(405, "invalid_request", METADATA_PATH + " accepts only GET").json());
            return;
        }
        // the address this connection reached, not the Host header (which the caller chooses)
        String host = Request.getLocalAddr(request);
        String base = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + Request.getLocalPort(request);
        java.util.Map<String, Object> document = new java.util.LinkedHashMap<>();
        document.put("issuer", service.settings.issuer());
        document.put("token_endpoint", base + "/oauth2/token");
        document.put("introspection_endpoint", base + "/oauth2/introspect");
        document.put("revocation_endpoint", base + "/oauth2/revoke");
        credentials.ifPresent(route -> document.put("sigil_credentials_endpoint", base + CredentialRoute.PATH));
        document.put("grant_types_supported", java.util.List.of(ExchangeRequest.GRANT_TYPE, ExchangeRequest.JWT_BEARER,
                ExchangeRequest.CLIENT_CREDENTIALS));
        // clients authenticate with their SVIDs: the x509-svid over mutual tls (RFC 8705), or a jwt-svid as client assertion
        // (RFC 7523 section 2.2; draft-ietf-oauth-spiffe-client-auth)
        document.put("token_endpoint_auth_methods_supported", java.util.List.of("tls_client_auth", "private_key_jwt"));
        document.put("token_endpoint_auth_signing_alg_values_supported", java.util.List.of("RS256", "RS384", "RS512", "ES256", "ES384",
                "ES512", "PS256", "PS384", "PS512"));
        document.put("tls_client_certificate_bound_access_tokens", true);
        document.put("sigil_token_types_supported", java.util.List.of(ExchangeRequest.ACCESS_TOKEN_TYPE, TransactionTokens.TXN_TOKEN_TYPE));
        document.put("sigil_jwt_svid_audience", service.settings.audience());
        try {
            JsonResponses.send(response, callback, 200, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(document));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the token service metadata", e);
        }
    }

    private Caller caller(Request request) {
        Optional<String> bearer = Optional.ofNullable(request.getHeaders().get(HttpHeader.AUTHORIZATION))
                .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(h -> h.substring(7).trim());
        X509Certificate[] chain = null;
        if (request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE) instanceof EndPoint.SslSessionData ssl) {
            chain = ssl.peerCertificates();
        }
        if (chain == null || chain.length == 0) {
            return new Caller(Optional.empty(), Optional.empty(), bearer);
        }
        try {
            // A resumed session skips the handshake's checks: validate the chain again for every request.
            ServerTls.verifyClientSvid(chain, bundle, service.clock);
        } catch (CertificateException e) {
            throw OAuthException.invalidClient("the client certificate is not a valid x509-svid of this trust domain: " + e.getMessage());
        }
        Optional<SpiffeId> id = ServerTls.spiffeIdOf(chain[0]);
        if (id.isEmpty()) {
            throw OAuthException.invalidClient("the client certificate has no single spiffe id uri san");
        }
        return new Caller(Optional.of(chain[0]), id, bearer);
    }

    /** Content type and declared length, checked before any byte of the body is read. */
    private static void checkBody(Request request, String expectedType) {
        String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String type = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!type.equals(expectedType)) {
            throw OAuthException.invalidRequest("the request body has content type '" + (contentType == null ? "none" : dev.sigil.core.Printable.clip(contentType))
                    + "'; send " + expectedType);
        }
        if (request.getLength() > MAX_BODY_BYTES) {
            throw new OAuthException(413, "invalid_request", "the request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
    }

    /** Runs the endpoint on a complete body; every outcome completes {@code callback}. */
    private void respond(String path, boolean credential, Caller caller, byte[] bytes, Response response, Callback callback) {
        try {
            String body = ascii(bytes);
            if (credential) {
                JsonResponses.send(response, callback, 200, credentials.get().issue(body, caller));
                return;
            }
            Form form = Form.parse(body);
            switch (path) {
                case "/oauth2/token" -> JsonResponses.send(response, callback, 200, service.exchange.exchange(form, caller));
                case "/oauth2/introspect" -> JsonResponses.send(response, callback, 200, service.introspection.introspect(form, caller));
                default -> {
                    service.introspection.revoke(form, caller);
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
                    response.write(true, null, callback);
                }
            }
        } catch (OAuthException e) {
            sendRefusal(path, e, response, callback);
        } catch (RuntimeException | Error e) {
            sendFault(path, e, response, callback);
        }
    }

    /** A body that could not be read: too slow (408, connection closed), too large (413) or cut off (400). */
    private static void refuseBody(Throwable failure, Response response, Callback callback) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        OAuthException refusal;
        if (cause instanceof TimeoutException) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            refusal = new OAuthException(408, "invalid_request", "the request body did not arrive within the request timeout");
        } else if (cause instanceof IllegalArgumentException) {
            refusal = new OAuthException(413, "invalid_request", "the request body is larger than " + MAX_BODY_BYTES + " bytes");
        } else {
            refusal = OAuthException.invalidRequest("the request body cannot be read");
        }
        try {
            JsonResponses.send(response, callback, refusal.status(), refusal.json());
        } catch (RuntimeException e) {
            callback.failed(e);
        }
    }

    private static void sendRefusal(String path, OAuthException e, Response response, Callback callback) {
        LOG.debug("token endpoint {} refused: {} {}", dev.sigil.core.Printable.clip(path), e.error(), e.getMessage());
        if (e.status() == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, challenge(e));
        }
        JsonResponses.send(response, callback, e.status(), e.json());
    }

    /**
     * The RFC 6750 section 3 challenge of a 401: {@code Bearer realm="sigil", error="...", error_description="..."},
     * the description limited to the characters RFC 6749 allows there (no quote or backslash, printable ASCII)
     * and clipped, since it names what the caller sent.
     */
    static String challenge(OAuthException e) {
        StringBuilder description = new StringBuilder();
        for (char c : dev.sigil.core.Printable.clip(e.getMessage(), 200).toCharArray()) {
            description.append(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' ? c : '?');
        }
        return "Bearer realm=\"sigil\", error=\"" + e.error() + "\", error_description=\"" + description + "\"";
    }

    private static void sendFault(String path, Throwable e, Response response, Callback callback) {
        String incident = UUID.randomUUID().toString().substring(0, 8);
        LOG.error("token endpoint {} failed (incident {})", dev.sigil.core.Printable.clip(path), incident, e);
        JsonResponses.send(response, callback, 503, new OAuthException(503, "temporarily_unavailable",
                "the token service could not complete the request (incident " + incident + "); nothing was issued").json());
    }

    private static String ascii(byte[] bytes) {
        try {
            return StandardCharsets.US_ASCII.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw OAuthException.invalidRequest("the body must be ascii (percent-encode or \\u-escape other characters)");
        }
    }
}
