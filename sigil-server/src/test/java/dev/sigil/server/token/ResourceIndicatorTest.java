package dev.sigil.server.token;

import static dev.sigil.server.token.TokenEndpointHarness.JSON;
import static dev.sigil.server.token.TokenEndpointHarness.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registered protected resources (RFC 8707 resource indicators, RFC 9728 metadata) through the real admin
 * API and token endpoint: a token for a registered resource carries only the scopes it defines, is bound
 * to its canonical URI, and the generated metadata names this authorization server.
 */
class ResourceIndicatorTest {
    private static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static final String AGENT = "spiffe://example.org/ai-agent";

    @TempDir
    static Path dir;
    private static TokenEndpointHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new TokenEndpointHarness(dir, request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none()));
    }

    @AfterAll
    static void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aTokenForARegisteredResourceCarriesOnlyTheScopesItDefines() throws Exception {
        RawHttp.Reply created = h.admin("POST", "/v1/resources", "{\"uri\": \"https://Notes.Example.com/mcp\", \"scopes\": [\"notes.read\", "
                + "\"notes.write\"], \"name\": \"Notes MCP\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(JSON.readTree(created.body()).path("uri").asText()).isEqualTo("https://notes.example.com/mcp");

        // the client may spell the host in capitals: the token is for the canonical uri
        RawHttp.Reply reply = h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT),
                "resource", "https://NOTES.example.com/mcp", "scope", "notes.read"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet().getAudience())
                .containsExactly("https://notes.example.com/mcp");

        expectError(h.token(h.anonymous, Map.of("grant_type", JWT_BEARER, "assertion", h.jwtSvid(AGENT),
                "resource", "https://notes.example.com/mcp", "scope", "notes.read admin")), 400, "invalid_scope",
                "scope admin is not defined by resource https://notes.example.com/mcp; it defines notes.read notes.write");
        // refused before any token exists, and audited against the workload that asked
        List<Map<String, String>> audit = h.audit("token.exchange");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", AGENT);
    }

    @Test
    void theMetadataDocumentNamesTheResourceItsScopesAndThisAuthorizationServer() throws Exception {
        assertThat(h.admin("POST", "/v1/resources", "{\"uri\": \"https://tickets.example.com/\", \"scopes\": [\"tickets.read\"]}")
                .status()).isEqualTo(201);

        RawHttp.Reply metadata = h.admin("GET", "/v1/resources/metadata?uri=https%3A%2F%2Ftickets.example.com%2F", "");
        assertThat(metadata.status()).as(metadata.body()).isEqualTo(200);
        JsonNode document = JSON.readTree(metadata.body());
        assertThat(document.path("resource").asText()).isEqualTo("https://tickets.example.com/");
        assertThat(document.path("authorization_servers").get(0).asText()).isEqualTo("https://sigil.example.org");
        assertThat(document.path("scopes_supported").toString()).isEqualTo("[\"tickets.read\"]");
        assertThat(document.path("bearer_methods_supported").toString()).isEqualTo("[\"header\"]");

        assertThat(h.admin("POST", "/v1/resources", "{\"uri\": \"https://tickets.example.com/\", \"scopes\": [\"x\"]}").status())
                .isEqualTo(409);
        RawHttp.Reply bad = h.admin("POST", "/v1/resources", "{\"uri\": \"http://tickets.example.com/\", \"scopes\": [\"x\"]}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("must be an absolute https uri");
        assertThat(h.admin("DELETE", "/v1/resources?uri=https%3A%2F%2Ftickets.example.com%2F", "").status()).isEqualTo(200);
        assertThat(h.admin("GET", "/v1/resources/metadata?uri=https%3A%2F%2Ftickets.example.com%2F", "").status()).isEqualTo(404);
        assertThat(h.audit("resource.create")).isNotEmpty();
        assertThat(h.audit("resource.delete")).singleElement().satisfies(r -> assertThat(r).containsEntry("subject", "https://tickets.example.com/"));
    }
}
