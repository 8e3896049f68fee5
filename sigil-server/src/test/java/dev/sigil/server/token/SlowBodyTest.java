package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slow-body attack against the real token endpoint: unauthenticated clients declare a 16 KB body
 * and send it a byte at a time. They must not starve the listener's workers (a normal exchange keeps
 * working while they are connected), and each loses its connection with 408 once its request is older
 * than the request timeout.
 */
class SlowBodyTest {
    private static final int SLOW_CLIENTS = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private SigilServer server;
    private SSLContext anonymous;
    private final List<SSLSocket> slow = new ArrayList<>();
    private final AtomicBoolean dripping = new AtomicBoolean(true);
    private final ExecutorService drip = Executors.newSingleThreadExecutor();

    @BeforeEach
    void start() throws Exception {
        ServerConfig config = dev.sigil.server.testing.TokenServerConfig.load(dir, "request_timeout: 3s");
        PolicyEngine allow = request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(allow));
        anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
    }

    @AfterEach
    void stop() throws Exception {
        dripping.set(false);
        drip.shutdownNow();
        for (SSLSocket socket : slow) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void slowBodiesNeitherStarveTheEndpointNorOutliveTheRequestTimeout() throws Exception {
        InetSocketAddress address = server.tokenEndpointAddress().orElseThrow();
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            SSLSocket socket = (SSLSocket) anonymous.getSocketFactory().createSocket(address.getAddress(), address.getPort());
            socket.setSoTimeout(15_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(("POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: 16000\r\n\r\ngrant_type=").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            slow.add(socket);
        }
        long begun = System.nanoTime();
        drip.submit(() -> {
            while (dripping.get()) {
                for (SSLSocket socket : slow) {
                    try {
                        socket.getOutputStream().write('a');
                        socket.getOutputStream().flush();
                    } catch (Exception closed) {
                        // the server hung up: what it should do
                    }
                }
                Thread.sleep(500);
            }
            return null;
        });

        // while all of them trickle, a normal exchange is answered promptly
        String svid = server.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/web"), Audience.of(server.tokenAudience()),
                Duration.ofMinutes(5)).token();
        long sent = System.nanoTime();
        RawHttp.Reply reply = RawHttp.tls(anonymous, address, "POST", "/oauth2/token", "application/x-www-form-urlencoded",
                ("grant_type=" + URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                        + "&subject_token_type=" + URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8)
                        + "&subject_token=" + svid + "&audience=https%3A%2F%2Fapi.example.com").getBytes(StandardCharsets.US_ASCII), Map.of());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(JSON.readTree(reply.body()).path("access_token").asText()).isNotEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("exchange latency with %d slow clients", SLOW_CLIENTS)
                .isLessThan(Duration.ofSeconds(2));

        // and every slow client is answered 408 and disconnected once its request is older than 3 s
        for (SSLSocket socket : slow) {
            String answer = readAll(socket.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 408");
            assertThat(answer).contains("request timeout");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - begun)).isLessThan(Duration.ofSeconds(12));
    }

    private static String readAll(InputStream in) throws Exception {
        byte[] bytes = in.readAllBytes(); // returns when the server closes the connection
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
