package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.sigil.agent.workload.FakeWorkloadIdentities;
import dev.sigil.agent.workload.TestTrustDomain;
import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.agent.workload.WorkloadApiServer;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.selector.Selector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil credential get} as a workload runs it: SVID and bundle from a real Workload API server,
 * then HTTPS to a stand-in token service that presents an X.509-SVID of the same trust domain.
 */
class CredentialCommandTest {
    @TempDir
    Path dir;
    private final TestTrustDomain domain = new TestTrustDomain("example.org");
    private final AtomicReference<String> seenAuthorization = new AtomicReference<>();
    private final AtomicReference<String> seenBody = new AtomicReference<>();
    private WorkloadApiServer agent;
    private HttpsServer tokenService;
    private Path socket;

    @BeforeEach
    void start() throws Exception {
        FakeWorkloadIdentities identities = new FakeWorkloadIdentities(domain);
        identities.setEntries(new FakeWorkloadIdentities.Entry(Set.of(ownUid()), domain.x509("/billing", Set.of())));
        socket = dir.resolve("agent/api.sock");
        agent = WorkloadApiServer.create(WorkloadApiConfig.defaults().withSocketPath(socket), identities,
                List.of(WorkloadAttestor.unix(Path.of("/proc"), Path.of("/etc"))), Clock.systemUTC()).start();
    }

    private void startTokenService(String path) throws Exception {
        X509Identity identity = domain.x509(path, Set.of());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(identity.privateKeyPkcs8())),
                new char[0], identity.chain().toArray(Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, new char[0]);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(factory.getKeyManagers(), null, null);
        tokenService = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenService.setHttpsConfigurator(new HttpsConfigurator(tls));
        tokenService.createContext("/v1/credentials", exchange -> {
            seenAuthorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            seenBody.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] answer = """
                    {"lease_id":"abcdefghijklmnopqrstuvwx","broker":"postgresql","resource":"reports",
                     "expires_at":"2030-01-01T00:00:00Z","max_expires_at":"2030-01-01T01:00:00Z",
                     "credential":{"username":"sigil_x","password":"s3cret"},"details":{}}""".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        tokenService.start();
    }

    @AfterEach
    void stop() {
        agent.close();
        if (tokenService != null) {
            tokenService.stop(0);
        }
    }

    private CliHarness.Result get(String... extra) {
        List<String> args = new ArrayList<>(List.of("credential", "get", "--broker", "postgresql", "--resource", "reports",
                "--ttl", "10m", "--param", "mode=ro", "--socket", socket.toString(), "--audience", "https://sigil.example/oauth2/token",
                "--server", "https://127.0.0.1:" + tokenService.getAddress().getPort()));
        args.addAll(List.of(extra));
        return new CliHarness(Map.of(), dir).run(args.toArray(String[]::new));
    }

    @Test
    void workloadGetsACredentialWithItsOwnJwtSvidOverTheBundle() throws Exception {
        startTokenService("/sigil/server");
        CliHarness.Result result = get();
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).contains("abcdefghijklmnopqrstuvwx").contains("password").contains("s3cret");
        assertThat(seenAuthorization.get()).startsWith("Bearer ey");
        assertThat(seenBody.get()).contains("\"broker\":\"postgresql\"").contains("\"ttl\":600").contains("\"mode\":\"ro\"");
        assertThat(get("--output", "json").out()).contains("\"lease_id\"");
    }

    @Test
    void serverWithAnotherSpiffeIdIsNotTrusted() throws Exception {
        startTokenService("/not-the-server");
        CliHarness.Result result = get();
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.err()).contains("cannot reach the token service");
        assertThat(seenAuthorization.get()).isNull();
    }

    private static Selector ownUid() throws IOException {
        return Selector.of("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }
}
