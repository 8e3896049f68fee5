package dev.sigil.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.SigilException;
import dev.sigil.server.testing.RawHttp;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminSocketTest {
    @TempDir
    Path dir;

    private AdminServer server(Path socket) {
        Routes routes = Routes.builder()
                .get("/v1/whoami", request -> Reply.ok(java.util.Map.of("actor", request.actor().describe())))
                .build();
        return AdminServer.create(AdminServer.Options.unixSocket(socket), AdminApi.of(routes), Clock.systemUTC());
    }

    @Test
    void socketIsOwnerOnlyInsideAnOwnerOnlyDirectoryItCreated() throws Exception {
        Path socket = dir.resolve("admin/admin.sock");
        try (AdminServer server = server(socket)) {
            server.start();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(RawHttp.unix(socket, "GET", "/v1/health").status()).isEqualTo(200);
            try (var entries = Files.list(socket.getParent())) {
                assertThat(entries).as("no staging leftovers").containsExactly(socket);
            }
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void staleSocketLeftByACrashedServerIsReplaced() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        try (AdminServer server = server(socket)) {
            server.start();
            assertThat(RawHttp.unix(socket, "GET", "/v1/health").body()).isEqualTo("{\"live\":true,\"ready\":true}");
        }
    }

    @Test
    void secondServerOnALiveSocketRefusesToStartAndLeavesTheFirstServing() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer first = server(socket); AdminServer second = server(socket)) {
            first.start();
            assertThatThrownBy(second::start)
                    .isInstanceOf(SigilException.class)
                    .hasMessageContaining("another server is already listening on the admin socket " + socket);
            assertThat(RawHttp.unix(socket, "GET", "/v1/health").status()).isEqualTo(200);
        }
    }

    @Test
    void regularFileAtTheSocketPathIsNeverDeleted() throws Exception {
        Path socket = dir.resolve("admin.sock");
        Files.writeString(socket, "precious");
        try (AdminServer server = server(socket)) {
            assertThatThrownBy(server::start).hasMessageContaining("exists and is not a socket");
        }
        assertThat(socket).hasContent("precious");
    }

    @Test
    void overlongSocketPathIsRefusedWithTheLimit() {
        Path socket = dir.resolve("x".repeat(120) + ".sock");
        try (AdminServer server = server(socket)) {
            assertThatThrownBy(server::start).hasMessageContaining("is too long: unix sockets allow at most 107 bytes");
        }
    }

    @Test
    void callerOnTheSocketIsTheLocalOperatorNamedByPeerCredentials() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = server(socket)) {
            server.start();
            String body = RawHttp.unix(socket, "GET", "/v1/whoami").body();
            assertThat(body).isEqualTo("{\"actor\":\"local:" + System.getProperty("user.name") + "\"}");
        }
    }

    @Test
    void notReadyServerAnswers503WithTheReason() throws Exception {
        Path socket = dir.resolve("admin.sock");
        AdminApi api = new AdminApi(Routes.builder().build(),
                () -> new ReadinessCheck.Readiness.NotReady("datastore unreachable"), ExceptionMapper.none());
        try (AdminServer server = AdminServer.create(AdminServer.Options.unixSocket(socket), api, Clock.systemUTC())) {
            server.start();
            RawHttp.Reply ready = RawHttp.unix(socket, "GET", "/v1/health");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo(
                    "{\"error\":{\"code\":\"unavailable\",\"message\":\"server is not ready: datastore unreachable\"}}");
            assertThat(RawHttp.unix(socket, "GET", "/v1/health/live").status()).isEqualTo(200);
        }
    }
}
