package dev.sigil.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.testkit.MutableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminMutualTlsTest {
    static final SpiffeId ADMIN = SpiffeId.parse("spiffe://sigil.test/ops/admin");
    /** Starts at the real time: the JDK client checks the server certificate against the wall clock. */
    static final MutableClock CLOCK = MutableClock.at(java.time.Instant.now());

    @TempDir
    static Path dir;
    static TestPki pki;
    static AdminServer server;
    static InetSocketAddress address;

    @BeforeAll
    static void start() {
        pki = TestPki.create("sigil.test", CLOCK.instant());
        TlsIdentity serverIdentity = pki.issue("spiffe://sigil.test/sigil/server");
        Set<SpiffeId> admins = Set.of(ADMIN);
        Routes routes = Routes.builder()
                .get("/v1/whoami", request -> Reply.ok(Map.of("actor", request.actor().describe())))
                .build();
        AdminServer.Options options = AdminServer.Options.unixSocket(dir.resolve("admin.sock"))
                .withTcp(new AdminServer.MutualTlsListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        () -> serverIdentity, () -> List.of(pki.caCertificate()), admins::contains));
        server = AdminServer.create(options, AdminApi.of(routes), CLOCK);
        server.start();
        address = server.tcpAddress().orElseThrow();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void adminSvidIsServedAndTheActorIsItsSpiffeId() throws Exception {
        RawHttp.Reply reply = RawHttp.tls(pki.clientContext(pki.issue(ADMIN.toString())), address, "GET", "/v1/whoami");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("{\"actor\":\"spiffe://sigil.test/ops/admin\"}");
    }

    @Test
    void clientWithoutACertificateIsRefusedAtTheHandshake() {
        Throwable refused = catchThrowable(() -> RawHttp.tls(pki.clientContext(null), address, "GET", "/v1/health"));
        assertThat(refused).isInstanceOf(IOException.class);
    }

    @Test
    void nonAdminSpiffeIdGets403InJson() throws Exception {
        RawHttp.Reply reply = RawHttp.tls(pki.clientContext(pki.issue("spiffe://sigil.test/web")), address, "GET", "/v1/health");
        assertThat(reply.status()).isEqualTo(403);
        assertThat(reply.body()).isEqualTo("{\"error\":{\"code\":\"permission_denied\",\"message\":"
                + "\"spiffe id spiffe://sigil.test/web is not authorized to use the admin api\"}}");
    }

    @Test
    void certificateFromAnotherAuthorityIsRefusedEvenWithAnAdminId() {
        TestPki stranger = TestPki.create("sigil.test", CLOCK.instant());
        TlsIdentity forged = stranger.issue(ADMIN.toString());
        Throwable refused = catchThrowable(() -> RawHttp.tls(TestPki.clientContext(forged, pki.caCertificate()), address, "GET", "/v1/whoami"));
        assertThat(refused).isInstanceOf(IOException.class);
    }

    @Test
    void expiredAdminCertificateIsRefusedAtTheInjectedClocksTime() {
        TlsIdentity shortLived = pki.issue(ADMIN.toString(), Duration.ofMinutes(1));
        CLOCK.advance(Duration.ofMinutes(2));
        try {
            Throwable refused = catchThrowable(() -> RawHttp.tls(pki.clientContext(shortLived), address, "GET", "/v1/whoami"));
            assertThat(refused).isInstanceOf(IOException.class);
        } finally {
            CLOCK.advance(Duration.ofMinutes(-2));
        }
    }
}
