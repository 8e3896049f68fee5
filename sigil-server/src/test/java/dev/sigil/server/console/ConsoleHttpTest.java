package dev.sigil.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.MutableClock;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console over the server's real admin Unix socket, byte for byte as a browser (through
 * {@code sigil console}'s forwarder) sends it: sessions only from a one-time code, CSRF and origin checks
 * on every form, cookie flags and security headers, and actions audited as the console actor.
 */
class ConsoleHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ORIGIN = "http://localhost";
    private static final String FORM = "application/x-www-form-urlencoded";
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    @TempDir
    static Path dir;
    static SigilServer server;
    static MutableClock clock;

    @BeforeAll
    static void start() throws Exception {
        clock = MutableClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
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
                  enabled: false
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                clock, SigilServer.Options.defaults());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aPageWithoutASessionAsksForSigilConsoleAndShowsNothing() throws Exception {
        RawHttp.Reply reply = get("/console/leases", Map.of());

        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.header("content-type")).startsWith("text/html");
        assertThat(reply.body()).contains("sigil console").doesNotContain("name=\"csrf\"").doesNotContain("<table");
        assertThat(get("/console/", Map.of("Cookie", "sigil_console=made-up")).status()).isEqualTo(401);
    }

    @Test
    void aLoginCodeOpensOneSessionWithAStrictCookieAndIsSingleUse() throws Exception {
        String code = loginCode();

        RawHttp.Reply redeemed = get("/console/login?code=" + code, Map.of());

        assertThat(redeemed.status()).isEqualTo(303);
        assertThat(redeemed.header("location")).isEqualTo("/console/");
        String setCookie = redeemed.header("set-cookie");
        assertThat(setCookie).startsWith("sigil_console=").contains("; Path=/console").contains("; HttpOnly").contains("; SameSite=Strict")
                .doesNotContain("Secure").doesNotContain(code);
        RawHttp.Reply overview = get("/console/", Map.of("Cookie", cookie(setCookie)));
        assertThat(overview.status()).isEqualTo(200);
        assertThat(overview.body()).contains("Overview").contains("data-key=\"posture-score\"");

        RawHttp.Reply again = get("/console/login?code=" + code, Map.of());
        assertThat(again.status()).isEqualTo(403);
        assertThat(again.header("set-cookie")).isNull();
        assertThat(again.body()).contains("already used");
        // the code and the session it started are security events in the audit trail, never the code itself
        JsonNode codes = api("GET", "/v1/audit?action=console.login_code", null).path("results");
        JsonNode sessions = api("GET", "/v1/audit?action=console.session", null).path("results");
        assertThat(codes).isNotEmpty();
        assertThat(sessions).isNotEmpty();
        assertThat(sessions.get(sessions.size() - 1).path("actor").asText()).startsWith("local:");
        assertThat(codes.toString() + sessions).doesNotContain(code);
    }

    @Test
    void aLoginCodeExpiresAfterSixtySeconds() throws Exception {
        String code = loginCode();
        clock.advance(ConsoleSessions.CODE_TTL);

        RawHttp.Reply reply = get("/console/login?code=" + code, Map.of());

        assertThat(reply.status()).isEqualTo(403);
        assertThat(reply.header("set-cookie")).isNull();
    }

    @Test
    void aSessionEndsAfterItsIdleTimeoutAndAfterEightHoursWhateverItsUse() throws Exception {
        String idle = session();
        String busy = session();
        clock.advance(ConsoleSessions.IDLE_TIMEOUT.minusMinutes(1));
        assertThat(get("/console/agents", Map.of("Cookie", busy)).status()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(2));

        assertThat(get("/console/agents", Map.of("Cookie", idle)).status()).as("idle 16 minutes").isEqualTo(401);
        assertThat(get("/console/agents", Map.of("Cookie", busy)).status()).as("used 2 minutes ago").isEqualTo(200);
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofMinutes(12));
            get("/console/agents", Map.of("Cookie", busy));
        }
        assertThat(get("/console/agents", Map.of("Cookie", busy)).status()).as("8 hours after it began").isEqualTo(401);
    }

    @Test
    void aSignedOutSessionCannotBeUsedAgain() throws Exception {
        String cookie = session();
        String csrf = csrf(cookie);

        RawHttp.Reply out = post("/console/logout", Map.of("csrf", csrf), Map.of("Cookie", cookie, "Origin", ORIGIN));

        assertThat(out.status()).isEqualTo(200);
        assertThat(out.header("set-cookie")).contains("Max-Age=0");
        assertThat(get("/console/", Map.of("Cookie", cookie)).status()).isEqualTo(401);
    }

    @Test
    void aFormWithoutTheSessionsCsrfTokenIsRefusedAndChangesNothing() throws Exception {
        String task = task();
        String cookie = session();

        RawHttp.Reply without = post("/console/tasks/end", Map.of("id", task), Map.of("Cookie", cookie, "Origin", ORIGIN));
        RawHttp.Reply wrong = post("/console/tasks/end", Map.of("id", task, "csrf", "guessed"), Map.of("Cookie", cookie, "Origin", ORIGIN));
        RawHttp.Reply otherSession = post("/console/tasks/end", Map.of("id", task, "csrf", csrf(session())), Map.of("Cookie", cookie, "Origin", ORIGIN));

        assertThat(without.status()).isEqualTo(403);
        assertThat(wrong.status()).isEqualTo(403);
        assertThat(otherSession.status()).isEqualTo(403);
        assertThat(without.body()).contains("csrf token");
        assertThat(api("GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("active");
        assertThat(api("GET", "/v1/audit?action=task.end", null).path("results"))
                .noneSatisfy(r -> assertThat(r.path("subject").asText()).isEqualTo(task));
    }

    @Test
    void aFormFromAForeignOriginIsRefusedEvenWithTheRightToken() throws Exception {
        String task = task();
        String cookie = session();
        String csrf = csrf(cookie);

        RawHttp.Reply foreign = post("/console/tasks/end", Map.of("id", task, "csrf", csrf), Map.of("Cookie", cookie, "Origin", "http://evil.example"));
        RawHttp.Reply opaque = post("/console/tasks/end", Map.of("id", task, "csrf", csrf), Map.of("Cookie", cookie, "Origin", "null"));
        RawHttp.Reply neither = post("/console/tasks/end", Map.of("id", task, "csrf", csrf), Map.of("Cookie", cookie));
        RawHttp.Reply foreignReferer = post("/console/tasks/end", Map.of("id", task, "csrf", csrf),
                Map.of("Cookie", cookie, "Referer", "http://localhost.evil.example/console/tasks"));

        assertThat(foreign.status()).isEqualTo(403);
        assertThat(opaque.status()).isEqualTo(403);
        assertThat(neither.status()).isEqualTo(403);
        assertThat(foreignReferer.status()).isEqualTo(403);
        assertThat(foreign.body()).contains("evil.example");
        assertThat(api("GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("active");
    }

    @Test
    void anActionGoesThroughTheAdminApiAndIsAuditedAsTheConsoleActor() throws Exception {
        String task = task();
        String cookie = session();

        RawHttp.Reply ended = post("/console/tasks/end", Map.of("id", task, "csrf", csrf(cookie)),
                Map.of("Cookie", cookie, "Referer", ORIGIN + "/console/tasks"));

        assertThat(ended.status()).isEqualTo(303);
        assertThat(ended.header("location")).isEqualTo("/console/tasks?notice=ended");
        assertThat(api("GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("ended");
        JsonNode records = api("GET", "/v1/audit?action=task.end", null).path("results");
        assertThat(records).anySatisfy(r -> {
            assertThat(r.path("subject").asText()).isEqualTo(task);
            assertThat(r.path("actor").asText()).startsWith("console:local:");
        });
    }

    @Test
    void everyResponseForbidsFramingInlineScriptCachingAndSniffing() throws Exception {
        String cookie = session();
        for (RawHttp.Reply reply : new RawHttp.Reply[] {get("/console/", Map.of()), get("/console/policy", Map.of("Cookie", cookie)),
                get("/console/nowhere", Map.of("Cookie", cookie)), get("/console/login?code=nope", Map.of())}) {
            assertThat(reply.header("content-security-policy")).contains("default-src 'self'").contains("frame-ancestors 'none'")
                    .doesNotContain("unsafe-inline");
            assertThat(reply.header("x-frame-options")).isEqualTo("DENY");
            assertThat(reply.header("x-content-type-options")).isEqualTo("nosniff");
            assertThat(reply.header("cache-control")).isEqualTo("no-store");
            assertThat(reply.header("referrer-policy")).isEqualTo("same-origin");
            assertThat(reply.body()).doesNotContain("<script>").doesNotContain("onclick=");
        }
        assertThat(get("/console/nowhere", Map.of("Cookie", cookie)).status()).isEqualTo(404);
    }

    @Test
    void attackerControlledTextIsEscapedAndNoSecretIsShownOnAnyPage() throws Exception {
        api("POST", "/v1/entries", """
                {"spiffe_id": "spiffe://example.org/xss", "parent_id": "spiffe://example.org/node/a", "owner": "<script>alert(1)</script>",
                 "selectors": [{"type": "unix", "value": "uid:\\"><img src=x onerror=alert(2)>"}]}""");
        String joinToken = api("POST", "/v1/join-tokens", "{\"ttl\": 600}").path("token").asText();
        assertThat(joinToken).hasSizeGreaterThan(8);
        String cookie = session();

        for (String page : new String[] {"/console/", "/console/inventory", "/console/agents", "/console/leases", "/console/tasks",
                "/console/drift", "/console/audit", "/console/policy", "/console/posture", "/console/inventory?q=" + enc("<script>")}) {
            RawHttp.Reply reply = get(page, Map.of("Cookie", cookie));
            assertThat(reply.status()).as(page).isEqualTo(200);
            assertThat(reply.body()).as(page).doesNotContain("<script>alert").doesNotContain("<img src=x").doesNotContain(joinToken);
        }
        assertThat(get("/console/inventory?q=" + enc("<script>"), Map.of("Cookie", cookie)).body())
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    }

    @Test
    void aConsoleSessionCannotMintLoginCodesItself() {
        ConsoleSessions sessions = new ConsoleSessions(clock);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sessions.issue(new dev.sigil.server.admin.Actor.Console(
                        dev.sigil.server.admin.Actor.LocalOperator.unknown())))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static String task() throws Exception {
        return api("POST", "/v1/tasks", """
                {"owner": "team-a", "holder": "spiffe://example.org/billing", "purpose": "close", "allowed": ["read:memory:db"], "ttl": 3600}""")
                .path("id").asText();
    }

    private static String loginCode() throws Exception {
        JsonNode login = api("POST", "/v1/console/login", "{}");
        assertThat(login.path("login_path").asText()).isEqualTo("/console/login?code=" + login.path("code").asText());
        assertThat(login.path("code").asText()).hasSizeGreaterThanOrEqualTo(43);
        return login.path("code").asText();
    }

    /** A fresh session's cookie header value. */
    private static String session() throws Exception {
        return cookie(get("/console/login?code=" + loginCode(), Map.of()).header("set-cookie"));
    }

    private static String csrf(String cookie) throws Exception {
        Matcher matcher = CSRF.matcher(get("/console/", Map.of("Cookie", cookie)).body());
        assertThat(matcher.find()).isTrue();
        return matcher.group(1);
    }

    private static String cookie(String setCookie) {
        return setCookie.split(";", 2)[0];
    }

    private static RawHttp.Reply get(String path, Map<String, String> headers) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), "GET", path, null, null, headers);
    }

    private static RawHttp.Reply post(String path, Map<String, String> form, Map<String, String> headers) throws Exception {
        Map<String, String> ordered = new LinkedHashMap<>(form);
        StringBuilder body = new StringBuilder();
        ordered.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(enc(k)).append('=').append(enc(v)));
        return RawHttp.unix(server.admin().socketPath(), "POST", path, FORM, body.toString().getBytes(StandardCharsets.UTF_8), headers);
    }

    private static JsonNode api(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(method + " " + path + ": " + reply.body()).isBetween(200, 299);
        return JSON.readTree(reply.body());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
