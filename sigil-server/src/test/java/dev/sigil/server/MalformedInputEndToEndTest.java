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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @ParameterizedTest
    @ValueSource(strings = {
            "crash-37a99829b5a8247b1cc751320fdc940327b4a264", // ec key whose curve parameter is a UTF8String of control characters
            "crash-44914e76fdbc810bd1184b8b1c2a165f47794949", // truncated DER: the parser's exception has no message
            "crash-57d08bf07308f019b98f40da17e92fbfb2183336", // signature BIT STRING with unused bits
            "crash-87d3cb24a56aa6459b3e8396fc7182d79e84e883", // once answered "malformed data: null"
            "crash-b302ce72e6f547c37cecbf8b142822f28c39870f"}) // curve parameter is a UTF8String that is not UTF-8
    void malformedCsrIsRefusedAsTheCallersMistakeAndMintsNoSvid(String crash) throws Exception {
        byte[] der;
        try (var in = MalformedInputEndToEndTest.class.getResourceAsStream(
                "authority/CsrVerifierFuzzTestInputs/anyBytesAreAProvenKeyOrRefusedCleanly/" + crash)) {
            der = in.readAllBytes();
        }
        RawHttp.Reply reply = admin("POST", "/v1/svids/x509", JSON.writeValueAsString(Map.of(
                "spiffe_id", "spiffe://example.org/web", "csr", dev.sigil.core.crypto.Pem.encode("CERTIFICATE REQUEST", der))));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).startsWith("csr ");
        assertThat(reply.body()).doesNotContain("cert_chain_pem");
        Refusals.assertPresentable(message);
    }

    @Test
    void taskWithAControlCharacterInAnAllowedResourceIsRefusedInOneLineAndNotCreated() throws Exception {
        RawHttp.Reply reply = admin("POST", "/v1/tasks", JSON.writeValueAsString(Map.of("owner", "team-ai",
                "holder", "spiffe://example.org/agent", "purpose", "summarise", "ttl", 100,
                "allowed", java.util.List.of("read:https://api.example.org/\u007f" + FORGED_LINE))));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("task resource");
        Refusals.assertPresentable(message);
        assertThat(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/tasks").body()).doesNotContain("forged");
    }

    @Test
    void entryUpdateWhosePathIdHasALineSeparatorIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = admin("PUT", "/v1/entries/e-1%C2%85%E2%80%A82026-01-01+INFO+forged", JSON.writeValueAsString(Map.of(
                "id", "e-1", "spiffe_id", "spiffe://example.org/web", "parent_id", "spiffe://example.org/node",
                "selectors", java.util.List.of(Map.of("type", "unix", "value", "uid:1000")), "owner", "team-web")));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("but the path names entry");
        Refusals.assertPresentable(message);
    }

    @Test
    void bodyWithControlCharactersInABareTokenIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = admin("PUT", "/v1/policy", "{\"yaml\": ditioue" + "\u0000".repeat(20) + FORGED_LINE + "el > 1\n\"}");

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).startsWith("request body is not valid json at line 1");
        Refusals.assertPresentable(message);
    }

    @Test
    void bodyWithALineSeparatorInAnUnknownFieldNameIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = admin("PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", "rules: []", "colour\u2028" + FORGED_LINE, 1)));

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).startsWith("unknown field 'colour");
        Refusals.assertPresentable(message);
    }

    @Test
    void queryParameterWithALineSeparatorIsRefusedInOneLine() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "DELETE", "/v1/entries/e-1?revision=x%E2%80%A82026-01-01+INFO+forged");

        String message = adminError(reply, 400, "invalid_argument");
        assertThat(message).contains("query parameter 'revision'");
        Refusals.assertPresentable(message);
    }

    @Test
    void unknownAdminPathWithAControlCharacterIsNotFoundInOneLine() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/entries%C2%85%E2%80%A82026-01-01+INFO+forged");

        String message = adminError(reply, 404, "not_found");
        assertThat(message).startsWith("no admin api route for GET /v1/entries");
        Refusals.assertPresentable(message);
    }

    @Test
    void policyWhoseConditionIsLongGarbageIsRefusedWithOneBoundedLineAndNotApplied() throws Exception {
        String before = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/policy").body();
        String condition = "\u00e7".repeat(3000) + " request.trust_level > 0";
        String yaml = """
                rules:
                  - name: a
                    effect: allow
                    subject: {spiffe_id: spiffe://example.org/web}
                    actions: [token:exchange]
                    resources: ["*"]
                    condition: "%s"
                """.formatted(condition);

        String message = adminError(admin("PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", yaml))), 400, "invalid_argument");

        assertThat(message).contains("condition does not compile");
        Refusals.assertPresentable(message);
        assertThat(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/policy").body()).isEqualTo(before);
    }

    @Test
    void policyThatIsNotYamlIsRefusedInOneLine() throws Exception {
        String yaml = "rules:\n  - name: a\n    effect: allow   subject: {spiffe_id: \"spiffe://example.org/web\"}\n";

        String message = adminError(admin("PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", yaml))),
                400, "invalid_argument");

        assertThat(message).contains("not valid yaml");
        Refusals.assertPresentable(message);
    }

    @Test
    void policyThatIsNotYamlIsRefusedWithoutQuotingItsSource() throws Exception {
        String yaml = "rules:\n  - name: null\n    e    selectors: [unix:uid:1000]\n      min_trust_level: 1\n";

        String message = adminError(admin("PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", yaml))), 400, "invalid_argument");

        assertThat(message).contains("not valid yaml").containsPattern("line \\d").doesNotContain("min_trust_level");
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
