package dev.sigil.server.token;

import static dev.sigil.server.token.TokenEndpointHarness.JSON;
import static dev.sigil.server.token.TokenEndpointHarness.expectError;
import static dev.sigil.server.token.TokenEndpointHarness.form;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.testing.RawHttp;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The grants an MCP client or any OAuth client with a SPIFFE identity uses at the real token endpoint:
 * RFC 7523's jwt-bearer grant with a JWT-SVID as {@code assertion} (the MCP workload identity federation
 * extension's request), and {@code client_credentials} with the JWT-SVID as {@code client_assertion}
 * (draft-ietf-oauth-spiffe-client-auth) or the X.509-SVID over mutual TLS.
 */
class AssertionGrantsTest {
    private static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static final String JWT_SPIFFE = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
    private static final String AGENT = "spiffe://example.org/ai-agent";
    private static final String MCP = "https://mcp.example.com/";
    private static final List<PolicyRequest> SEEN = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dir;
    private static TokenEndpointHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new TokenEndpointHarness(dir, request -> {
            SEEN.add(request);
            return request.resource().equals("https://forbidden.example.com/")
                    ? new Decision.Deny(List.of("no rule lets " + request.subject() + " call " + request.resource()))
                    : new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        });
    }

    @AfterAll
    static void stop() {
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void reset() {
        SEEN.clear();
    }

    @Test
    void theJwtBearerGrantTurnsAJwtSvidIntoAnAccessTokenForOneResource() throws Exception {
        RawHttp.Reply reply = h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT), "resource", MCP,
                "scope", "tools.call"));

        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("token_type").asText()).isEqualTo("Bearer");
        JWTClaimsSet claims = SignedJWT.parse(body.path("access_token").asText()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(AGENT);
        assertThat(claims.getAudience()).containsExactly(MCP);
        assertThat(claims.getStringClaim("scope")).isEqualTo("tools.call");
        assertThat(SEEN).singleElement().satisfies(request -> {
            assertThat(request.action()).isEqualTo("token:exchange");
            assertThat(request.resource()).isEqualTo(MCP);
        });
        List<Map<String, String>> audit = h.audit("token.exchange");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "success").containsEntry("subject", AGENT);
        // the policy decides as for any exchange
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT), "resource",
                "https://forbidden.example.com/")), 403, "access_denied", "no rule lets");
    }

    @Test
    void aBadAssertionIsInvalidGrantNamingWhatWasWrong() throws Exception {
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT, "https://elsewhere.example"),
                "resource", MCP)), 400, "invalid_grant", "assertion audience");
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", "not.a.jwt", "resource", MCP)),
                400, "invalid_grant", "assertion is not a signed jwt");
        String accessToken = JSON.readTree(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT),
                "resource", MCP)).body()).path("access_token").asText();
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", accessToken, "resource", MCP)),
                400, "invalid_grant", "access token");
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "resource", MCP)), 400, "invalid_request", "assertion is required");
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT), "resource", MCP,
                "subject_token", h.jwtSvid(AGENT))), 400, "invalid_request", "not a parameter of the jwt-bearer grant");
        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT))),
                400, "invalid_request", "audience or resource is required");
        expectError(h.token(h.anonymous, Map.of("grant_type", "password", "username", "a")), 400, "unsupported_grant_type", "jwt-bearer");
    }

    @Test
    void clientCredentialsAcceptAJwtSvidClientAssertionInBothAssertionTypes() throws Exception {
        for (String type : List.of(JWT_SPIFFE, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")) {
            RawHttp.Reply reply = h.token(h.anonymous, Map.of("grant_type", "client_credentials", "client_assertion_type", type,
                    "client_assertion", h.jwtSvid(AGENT), "client_id", AGENT, "resource", MCP));
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            assertThat(SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet().getSubject())
                    .isEqualTo(AGENT);
        }
        // draft-ietf-oauth-rfc7523bis: a client assertion may name the issuer as its audience
        RawHttp.Reply issuerAudience = h.token(h.anonymous, Map.of("grant_type", "client_credentials", "client_assertion_type", JWT_SPIFFE,
                "client_assertion", h.jwtSvid(AGENT, "https://sigil.example.org"), "resource", MCP));
        assertThat(issuerAudience.status()).as(issuerAudience.body()).isEqualTo(200);
    }

    @Test
    void aClientThatCannotProveItsIdentityIsInvalidClient() throws Exception {
        expectError(h.token(h.anonymous, Map.of("grant_type", "client_credentials", "client_assertion_type", JWT_SPIFFE,
                "client_assertion", h.jwtSvid(AGENT, "https://elsewhere.example"), "resource", MCP)),
                401, "invalid_client", "client_assertion audience");
        expectError(h.token(h.anonymous, Map.of("grant_type", "client_credentials", "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "client_assertion", "x", "resource", MCP)),
                401, "invalid_client", "is not supported");
        expectError(h.token(h.anonymous, Map.of("grant_type", "client_credentials", "resource", MCP)),
                401, "invalid_client", "needs an authenticated client");
        expectError(h.token(h.anonymous, Map.of("grant_type", "client_credentials", "client_assertion_type", JWT_SPIFFE,
                "client_assertion", h.jwtSvid(AGENT), "client_id", "spiffe://example.org/someone-else", "resource", MCP)),
                401, "invalid_client", "is not the client_assertion's spiffe id");
        // the one refusal of a client that proved who it is (a genuine jwt-svid naming another client_id) is audited
        List<Map<String, String>> audit = h.audit("token.exchange");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", AGENT);
        assertThat(audit.get(audit.size() - 1).get("details")).contains("invalid_client");
    }

    @Test
    void clientCredentialsOverMutualTlsBindTheTokenToTheCertificate() throws Exception {
        RawHttp.Reply reply = h.token(h.mutualTls(AGENT), Map.of("grant_type", "client_credentials", "client_id", AGENT, "resource", MCP));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JWTClaimsSet claims = SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(AGENT);
        assertThat(claims.getJSONObjectClaim("cnf")).containsKey("x5t#S256");
        expectError(h.token(h.mutualTls(AGENT), Map.of("grant_type", "client_credentials", "client_id", "spiffe://example.org/other",
                "resource", MCP)), 401, "invalid_client", "is not the client certificate's spiffe id");
    }

    @Test
    void theMetadataAdvertisesTheGrantsAndSvidClientAuthentication() throws Exception {
        RawHttp.Reply reply = RawHttp.tls(h.anonymous, h.server.tokenEndpointAddress().orElseThrow(), "GET",
                "/.well-known/oauth-authorization-server");
        assertThat(reply.status()).isEqualTo(200);
        JsonNode metadata = JSON.readTree(reply.body());
        assertThat(metadata.path("grant_types_supported").toString()).contains("token-exchange").contains(JWT_BEARER)
                .contains("client_credentials");
        assertThat(metadata.path("token_endpoint_auth_methods_supported").toString()).contains("tls_client_auth").contains("private_key_jwt");
        assertThat(metadata.path("issuer").asText()).isEqualTo("https://sigil.example.org");
    }
}
