package dev.sigil.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console on the mutual-TLS admin listener, for remote use: the transport's admin check still holds
 * for every console request, the session acts for the SVID that minted the code, and its cookie is
 * {@code Secure}.
 */
class ConsoleMutualTlsTest {
    static final SpiffeId ADMIN = SpiffeId.parse("spiffe://sigil.test/ops/admin");
    static final MutableClock CLOCK = MutableClock.at(Instant.now());
    static final AtomicReference<String> lastActor = new AtomicReference<>();

    @TempDir
    static Path dir;
    static TestPki pki;
    static AdminServer server;
    static InetSocketAddress address;

    @BeforeAll
    static void start() {
        pki = TestPki.create("sigil.test", CLOCK.instant());
        var serverIdentity = pki.issue("spiffe://sigil.test/sigil/server");
        ConsoleSessions sessions = new ConsoleSessions(CLOCK);
        Routes routes = Routes.builder()
                .addAll(new ConsoleRoutes(sessions).routes())
                .get("/v1/agents", request -> {
                    lastActor.set(request.actor().describe());
                    return Reply.ok(Map.of("agents", List.of()));
                })
                .build();
        AdminServer.Options options = AdminServer.Options.unixSocket(dir.resolve("admin.sock"))
                .withTcp(new AdminServer.MutualTlsListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        () -> serverIdentity, () -> List.of(pki.caCertificate()), Set.of(ADMIN)::contains));
        server = AdminServer.create(options, AdminApi.of(routes).withConsole(new Console(sessions)), CLOCK);
        server.start();
        address = server.tcpAddress().orElseThrow();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void anAdminSvidOpensASecureSessionThatActsForItAndANonAdminCannotUseIt() throws Exception {
        SSLContext admin = pki.clientContext(pki.issue(ADMIN.toString()));
        String path = new ObjectMapper().readTree(RawHttp.tls(admin, address, "POST", "/v1/console/login", "application/json",
                "{}".getBytes(StandardCharsets.UTF_8), Map.of()).body()).path("login_path").asText();

        RawHttp.Reply redeemed = RawHttp.tls(admin, address, "GET", path);

        assertThat(redeemed.status()).isEqualTo(303);
        assertThat(redeemed.header("set-cookie")).contains("; Secure").contains("; HttpOnly").contains("; SameSite=Strict");
        String cookie = redeemed.header("set-cookie").split(";", 2)[0];
        RawHttp.Reply agents = RawHttp.tls(admin, address, "GET", "/console/agents", null, null, Map.of("Cookie", cookie));
        assertThat(agents.status()).isEqualTo(200);
        assertThat(agents.body()).contains(ADMIN.toString());
        assertThat(lastActor.get()).isEqualTo("console:" + ADMIN);

        SSLContext other = pki.clientContext(pki.issue("spiffe://sigil.test/web"));
        RawHttp.Reply stolen = RawHttp.tls(other, address, "GET", "/console/agents", null, null, Map.of("Cookie", cookie));
        assertThat(stolen.status()).isEqualTo(403);
        assertThat(stolen.body()).doesNotContain("<table");
    }
}
