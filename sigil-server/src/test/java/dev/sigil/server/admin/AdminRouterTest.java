package dev.sigil.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.http.ErrorCode;
import dev.sigil.server.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminRouterTest {
    record NewEntry(SpiffeId spiffeId, SpiffeId parentId, List<String> selectors, Optional<Integer> x509SvidTtl) {
        NewEntry {
            if (selectors.isEmpty()) {
                throw new IllegalArgumentException("an entry needs at least one selector");
            }
        }
    }

    static final class EntryGone extends RuntimeException {
        EntryGone(String message) {
            super(message);
        }
    }

    @TempDir
    static Path dir;
    static AdminServer server;
    static Path socket;

    @BeforeAll
    static void start() {
        socket = dir.resolve("admin.sock");
        Routes routes = Routes.builder()
                .post("/v1/entries", request -> Reply.created(request.body(NewEntry.class)))
                .post("/v1/entries/batch", request -> Reply.ok(Map.of("route", "batch")))
                .get("/v1/entries/{id}", request -> Reply.ok(Map.of("id", request.pathParameter("id"),
                        "selector", request.queryAll("selector"))))
                .delete("/v1/entries/{id}", request -> {
                    throw new EntryGone("entry " + request.pathParameter("id") + " was deleted");
                })
                .get("/v1/boom", request -> {
                    throw new IllegalStateException("secret-internal-detail at com.example.Thing");
                })
                .build();
        ExceptionMapper mapper = exception -> exception instanceof EntryGone gone
                ? Optional.of(new ApiException(ErrorCode.NOT_FOUND, gone.getMessage())) : Optional.empty();
        server = AdminServer.create(AdminServer.Options.unixSocket(socket).withMaxBodyBytes(1024),
                new AdminApi(routes, ReadinessCheck.alwaysReady(), mapper), Clock.systemUTC());
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static RawHttp.Reply post(String path, String contentType, String body) throws Exception {
        return RawHttp.unix(socket, "POST", path, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validBodyIsParsedWithSnakeCaseFieldsAndEchoedAs201() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json; charset=utf-8",
                "{\"spiffe_id\":\"spiffe://sigil.test/web\",\"parent_id\":\"spiffe://sigil.test/node\",\"selectors\":[\"unix:uid:0\"]}");
        assertThat(reply.status()).isEqualTo(201);
        assertThat(reply.header("content-type")).isEqualTo("application/json");
        assertThat(reply.header("cache-control")).isEqualTo("no-store");
        assertThat(reply.body()).isEqualTo(
                "{\"spiffe_id\":\"spiffe://sigil.test/web\",\"parent_id\":\"spiffe://sigil.test/node\",\"selectors\":[\"unix:uid:0\"]}");
    }

    @Test
    void malformedJsonIsA400NamingLineAndColumn() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json", "{\"spiffe_id\": }");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).startsWith("{\"error\":{\"code\":\"invalid_argument\",\"message\":\"request body is not valid json at line 1, column 15: ");
    }

    @Test
    void unknownFieldIsA400NamingTheFieldAndTheValidOnes() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json",
                "{\"spiffe_id\":\"spiffe://sigil.test/w\",\"parent_id\":\"spiffe://sigil.test/n\",\"selectors\":[\"a:b\"],\"spiffe_idd\":1}");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("unknown field 'spiffe_idd'; valid fields: parent_id, selectors, spiffe_id, x509_svid_ttl");
    }

    @Test
    void invalidSpiffeIdIsA400NamingTheFieldAndTheProblem() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json",
                "{\"spiffe_id\":\"http://x\",\"parent_id\":\"spiffe://sigil.test/n\",\"selectors\":[\"a:b\"]}");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("field 'spiffe_id' is invalid: 'http://x' is not a spiffe id");
    }

    @Test
    void wrongJsonTypeIsA400WithoutJavaTypeNames() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json",
                "{\"spiffe_id\":\"spiffe://sigil.test/w\",\"parent_id\":\"spiffe://sigil.test/n\",\"selectors\":\"a:b\"}");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("field 'selectors' must be an array").doesNotContain("java.");
    }

    @Test
    void recordValidationMessageReachesTheCaller() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json",
                "{\"spiffe_id\":\"spiffe://sigil.test/w\",\"parent_id\":\"spiffe://sigil.test/n\",\"selectors\":[]}");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("an entry needs at least one selector");
    }

    @Test
    void missingRequiredFieldIsA400NamingIt() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json", "{\"spiffe_id\":\"spiffe://sigil.test/w\",\"parent_id\":\"spiffe://sigil.test/n\"}");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("field 'selectors' is required").doesNotContain("java");
    }

    @Test
    void emptyBodyIsA400() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "POST", "/v1/entries");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("request body is empty; expected a json object");
    }

    @Test
    void oversizedBodyIsA413() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "application/json", "{\"spiffe_id\":\"" + "a".repeat(2000) + "\"}");
        assertThat(reply.status()).isEqualTo(413);
        assertThat(reply.body()).isEqualTo(
                "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"request body is larger than 1024 bytes\"}}");
    }

    @Test
    void nonJsonContentTypeIsA415() throws Exception {
        RawHttp.Reply reply = post("/v1/entries", "text/plain", "hello");
        assertThat(reply.status()).isEqualTo(415);
        assertThat(reply.body()).contains("unsupported_media_type").contains("'text/plain'; send application/json");
    }

    @Test
    void unknownPathIsA404InJson() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "GET", "/v1/nope");
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.body()).isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"no admin api route for GET /v1/nope\"}}");
    }

    @Test
    void wrongMethodIsA405ListingTheAllowedOnes() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "PUT", "/v1/entries/abc", "application/json", "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).isEqualTo(405);
        assertThat(reply.header("allow")).isEqualTo("DELETE, GET");
        assertThat(reply.body()).contains("method_not_allowed");
    }

    @Test
    void unexpectedExceptionIsA500WithoutInternals() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "GET", "/v1/boom");
        assertThat(reply.status()).isEqualTo(500);
        assertThat(reply.body()).startsWith("{\"error\":{\"code\":\"internal\",\"message\":\"internal error (incident ")
                .doesNotContain("secret-internal-detail").doesNotContain("IllegalStateException").doesNotContain("at ");
    }

    @Test
    void domainExceptionIsMappedByThePluggableMapper() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "DELETE", "/v1/entries/e1");
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.body()).isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"entry e1 was deleted\"}}");
    }

    @Test
    void pathParametersAndRepeatedQueryParametersReachTheHandler() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "GET", "/v1/entries/e%2D7?selector=unix%3Auid%3A0&selector=k8s:ns:a");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).contains("\"id\":\"e-7\"").contains("\"selector\":[\"unix:uid:0\",\"k8s:ns:a\"]");
    }

    @Test
    void literalSegmentWinsOverAParameter() throws Exception {
        assertThat(post("/v1/entries/batch", "application/json", "{}").body()).isEqualTo("{\"route\":\"batch\"}");
    }

    @Test
    void malformedRequestLineIsAnsweredInJson() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(socket, "GET", "/v1/%zz");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).startsWith("{\"error\":{\"code\":\"invalid_argument\"");
    }

    @Test
    void twoRoutesOfTheSameShapeAreRejected() {
        assertThatThrownBy(() -> Routes.builder()
                .get("/v1/entries/{id}", request -> Reply.noContent())
                .get("/v1/entries/{entry}", request -> Reply.noContent())
                .build())
                .hasMessageContaining("route GET /v1/entries/{entry} is declared twice");
    }
}
