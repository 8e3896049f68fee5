package dev.sigil.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.SigilServer;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's metrics listener as an operator configures it: absent unless {@code metrics} is set; with
 * {@code metrics.tls.client_ca_file} a client without a certificate from that CA gets no metrics; readiness
 * follows the datastore.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsListenerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void noListenerRunsUnlessConfigured() throws Exception {
        try (SigilServer server = SigilServer.start(TokenServerConfig.load(dir))) {
            assertThat(server.metricsAddress()).isEmpty();
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread -> thread.getName().startsWith("sigil-server-metrics"));
        }
    }

    @Test
    void mutualTlsListenerServesOnlyClientsWithACertificateFromTheConfiguredCa() throws Exception {
        TestPki pki = TestPki.create("metrics.example", Instant.now());
        TestPki stranger = TestPki.create("stranger.example", Instant.now());
        TlsIdentity listenerIdentity = pki.issue("spiffe://metrics.example/listener");
        Path cert = write("server.pem", Pem.encodeCertificates(listenerIdentity.chain()));
        Path key = write("server.key", Pem.encode("PRIVATE KEY", listenerIdentity.privateKey().getEncoded()));
        Path ca = write("clients.pem", Pem.encodeCertificates(List.of(pki.caCertificate())));
        TokenServerConfig.load(dir);
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, Files.readString(file) + """
                metrics:
                  port: 0
                  tls:
                    cert_file: %s
                    key_file: %s
                    client_ca_file: %s
                """.formatted(cert, key, ca));
        try (SigilServer server = SigilServer.start(reload(file))) {
            InetSocketAddress address = server.metricsAddress().orElseThrow();
            assertThat(address.getAddress().isLoopbackAddress()).as("binds loopback by default").isTrue();

            // no certificate, or one from another CA: the handshake fails, nothing is served
            assertThatThrownBy(() -> get(pki.clientContext(null), address, "/metrics")).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> get(TestPki.clientContext(stranger.issue("spiffe://stranger.example/scraper"), pki.caCertificate()),
                    address, "/metrics")).isInstanceOf(IOException.class);
            // plain HTTP gets no metrics either
            assertThatThrownBy(() -> Scrape.get(address, "/metrics")).isInstanceOf(IOException.class);

            HttpResponse<String> scrape = get(pki.clientContext(pki.issue("spiffe://metrics.example/prometheus")), address, "/metrics");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(Scrape.parse(scrape.body()).names()).contains("sigil_exchanges_total", "jvm_memory_used_bytes");
        }
    }

    @Test
    void readinessFlipsTo503WhileTheDatastoreIsUnreachableAndBackAfter() throws Exception {
        try (PostgresServer postgres = PostgresServer.start()) {
            PostgresServer.Database database = postgres.createDatabase();
            try (SigilServer server = SigilServer.start(TokenServerConfig.onPostgres(dir, "server", database, "metrics:\n  port: 0\n"))) {
                InetSocketAddress address = server.metricsAddress().orElseThrow();
                assertThat(Scrape.get(address, "/healthz/ready").statusCode()).isEqualTo(200);
                try (PostgresServer.Outage outage = postgres.outage()) {
                    HttpResponse<String> ready = Scrape.get(address, "/healthz/ready");
                    assertThat(ready.statusCode()).isEqualTo(503);
                    assertThat(JSON.readTree(ready.body()).path("reason").asText()).isEqualTo("the datastore does not answer");
                    assertThat(Scrape.get(address, "/healthz/live").statusCode()).as("still live").isEqualTo(200);
                }
                Eventually.within(Duration.ofSeconds(30), () -> assertThat(Scrape.get(address, "/healthz/ready").statusCode()).isEqualTo(200));
            }
        }
    }

    private static dev.sigil.server.config.ServerConfig reload(Path file) throws IOException {
        return dev.sigil.server.config.ServerConfigLoader.load(java.util.Optional.of(file),
                dev.sigil.server.config.ConfigEnvironment.of(java.util.Map.of(), file.getParent()),
                dev.sigil.server.config.ConfigOverrides.none());
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static HttpResponse<String> get(SSLContext tls, InetSocketAddress address, String path) throws Exception {
        try (HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build()) {
            return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + address.getPort() + path))
                    .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
