package dev.sigil.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.Refusals;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs the fuzz tests found, sent to a full server through its real listeners (the token endpoint over
 * HTTPS, the admin API over its Unix socket): each is refused as a client error whose description is one
 * bounded line of printable text, so it can neither forge log lines nor grow with the input.
 */
class MalformedInputEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXCHANGE = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
            + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&audience=https%3A%2F%2Fapi.example.com";
    private static final String FORGED_LINE = "\n2026-01-01 00:00:00 INFO forged entry";

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC());
        anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void formWithABrokenPercentEscapeIsRefusedWithoutRepeatingIt() throws Exception {
        String description = oauthError(token("grant_type=%1\u001b[31m" + FORGED_LINE.replace(' ', '+')), "invalid_request");

        assertThat(description).contains("'%' that is not followed by two hex digits");
        Refusals.assertPresentable(description);
    }

    @Test
    void subjectTokenWithAControlCharacterInItsAlgIsRefusedInOneLine() throws Exception {
        String header = "{\"alg\":\"ES256" + FORGED_LINE.replace("\n", "\\n") + "\",\"kid\":\"k1\"}";
        String token = base64Url(header) + "." + base64Url("{}") + ".c2ln";

        String description = oauthError(token(EXCHANGE + "&subject_token=" + token), "invalid_request");

        assertThat(description).contains("subject_token uses alg");
        Refusals.assertPresentable(description);
    }

    @Test
    void entryWithAControlCharacterInItsSpiffeIdIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = admin("POST", "/v1/entries", JSON.writeValueAsString(Map.of(
                "spiffe_id", "spiffe://example.org/web" + FORGED_LINE, "parent_id", "spiffe://example.org/node",
                "selectors", java.util.List.of(Map.of("type", "unix", "value", "uid:1000")), "owner", "team-web")));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("field 'spiffe_id' is invalid");
        Refusals.assertPresentable(message);
    }

    @Test
    void entryWithAControlCharacterInASelectorTypeIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = admin("POST", "/v1/entries", JSON.writeValueAsString(Map.of(
                "spiffe_id", "spiffe://example.org/web", "parent_id", "spiffe://example.org/node",
                "selectors", java.util.List.of(Map.of("type", "unix" + FORGED_LINE, "value", "uid:1000")), "owner", "team-web")));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("selector type");
        Refusals.assertPresentable(message);
    }

    @Test
    void entryQueryWithAControlCharacterInASelectorIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/entries?selector=unix%0A2026-01-01+INFO+forged");

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("query parameter 'selector'");
        Refusals.assertPresentable(message);
    }

    private static RawHttp.Reply token(String body) throws Exception {
        return RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.US_ASCII), Map.of());
    }

    private static RawHttp.Reply admin(String method, String path, String json) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), method, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    private static String oauthError(RawHttp.Reply reply, String error) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("error").asText()).as(reply.body()).isEqualTo(error);
        assertThat(body.has("access_token")).isFalse();
        return body.path("error_description").asText();
    }

    private static String adminError(RawHttp.Reply reply, int status, String code) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(status);
        JsonNode error = JSON.readTree(reply.body()).path("error");
        assertThat(error.path("code").asText()).as(reply.body()).isEqualTo(code);
        return error.path("message").asText();
    }

    private static String base64Url(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
