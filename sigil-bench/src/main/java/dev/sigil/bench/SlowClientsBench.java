package dev.sigil.bench;

import dev.sigil.cli.AdminClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The slow-body attack, measured as users run Sigil: the server is its own process
 * ({@code java -jar sigil.jar server run --config FILE}), the client another. A normal token exchange
 * is timed {@code --requests} times back to back with no other client, then again while
 * {@code --slow} unauthenticated TLS connections each declare a 16,000-byte body and send one byte
 * every {@code --drip-ms} (they are reopened when the server drops them, as an attacker would).
 * Prints p50/p99 of both runs and their ratios; the target is that the exchange keeps its latency
 * (ratio near 1, not the seconds-long stall of a starved worker pool).
 *
 * <p>Usage: {@code SlowClientsBench [--slow 200] [--requests 500] [--drip-ms 5000] [--jar sigil-cli/target/sigil.jar]}
 */
public final class SlowClientsBench {
    private static final String AUDIENCE = "https://sigil.bench/oauth2/token";

    private SlowClientsBench() {
    }

    public static void main(String[] args) throws Exception {
        // loopback benchmark with a trust-all client (below): the certificate names no host to verify
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        Options options = Options.parse(args, Set.of("--slow", "--requests", "--drip-ms", "--jar"));
        int slowClients = options.positiveInt("--slow", 200);
        int requests = options.positiveInt("--requests", 500);
        int dripMillis = options.positiveInt("--drip-ms", 5000);
        Path jar = Path.of(options.string("--jar", "sigil-cli/target/sigil.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no server jar at " + jar + "; build it with ./mvnw -pl sigil-cli -am package -DskipTests");
        }
        try (TempDirectory root = TempDirectory.create("sigil-slow")) {
            int port = freePort();
            Path config = root.resolve("sigil.yaml");
            Files.writeString(config, """
                    data_dir: %s
                    trust_domain: example.org
                    log_level: warn
                    jwt:
                      issuer: https://sigil.bench
                    bundle_endpoint:
                      enabled: false
                    agent_api:
                      port: 0
                    token_endpoint:
                      port: %d
                    """.formatted(root.resolve("data"), port));
            Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "server", "run", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(root.resolve("server.log").toFile()).start();
            try {
                Path socket = root.resolve("data").resolve("admin").resolve("admin.sock");
                AdminHealthProbe probe = new AdminHealthProbe(socket, Duration.ofSeconds(5));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (probe.status() != 200) {
                    if (!server.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException("the server did not become healthy; see " + root.resolve("server.log"));
                    }
                    Thread.sleep(20);
                }
                String subjectToken;
                try (AdminClient admin = new AdminClient(socket)) {
                    AdminClient.Answer applied = admin.put("/v1/policy", Map.of("yaml", """
                            rules:
                              - name: bench
                                effect: allow
                                subject: {spiffe_id: spiffe://example.org/web}
                                actions: [token:exchange]
                                resources: [https://api]
                            """));
                    require(applied.status() == 200, "policy apply: " + applied.body());
                    AdminClient.Answer svid = admin.post("/v1/svids/jwt", Map.of("spiffe_id", "spiffe://example.org/web",
                            "audience", List.of(AUDIENCE), "ttl", 3600));
                    require(svid.status() == 200, "jwt-svid: " + svid.body());
                    subjectToken = svid.json().path("token").asText();
                }
                run(port, subjectToken, slowClients, requests, dripMillis);
            } finally {
                server.destroy();
                server.waitFor(15, TimeUnit.SECONDS);
            }
        }
    }

    private static void run(int port, String subjectToken, int slowClients, int requests, int dripMillis) throws Exception {
        SSLContext tls = trustAll();
        HttpClient client = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest exchange = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                        + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + subjectToken
                        + "&audience=" + enc("https://api")))
                .build();
        time(client, exchange, 200); // warm-up
        long[] quiet = time(client, exchange, requests);

        List<SSLSocket> slow = new ArrayList<>();
        AtomicBoolean dripping = new AtomicBoolean(true);
        for (int i = 0; i < slowClients; i++) {
            slow.add(openSlow(tls, port));
        }
        Thread drip = Thread.ofPlatform().daemon().start(() -> {
            while (dripping.get()) {
                for (int i = 0; i < slow.size(); i++) {
                    try {
                        OutputStream out = slow.get(i).getOutputStream();
                        out.write('a');
                        out.flush();
                    } catch (IOException dropped) {
                        try {
                            slow.get(i).close();
                            slow.set(i, openSlow(tls, port));
                        } catch (IOException ignored) {
                            // try again on the next round
                        }
                    }
                }
                try {
                    Thread.sleep(dripMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long[] attacked = time(client, exchange, requests);
        dripping.set(false);
        drip.interrupt();
        for (SSLSocket socket : slow) {
            socket.close();
        }

        System.out.printf("%nexchange latency (ms), %d back to back, server in its own process%n", requests);
        System.out.printf("%-34s %8s %8s%n", "", "p50", "p99");
        System.out.printf("%-34s %8.2f %8.2f%n", "no other client", ms(quiet, 50), ms(quiet, 99));
        System.out.printf("%-34s %8.2f %8.2f%n", slowClients + " slow-body connections open", ms(attacked, 50), ms(attacked, 99));
        System.out.printf("ratio (with / without): p50 %.2f, p99 %.2f%n", ms(attacked, 50) / ms(quiet, 50), ms(attacked, 99) / ms(quiet, 99));
    }

    private static SSLSocket openSlow(SSLContext tls, int port) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        out.write(("POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 16000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    private static long[] time(HttpClient client, HttpRequest request, int count) throws Exception {
        long[] nanos = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            nanos[i] = System.nanoTime() - start;
            require(response.statusCode() == 200, "exchange answered " + response.statusCode() + ": " + response.body());
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static double ms(long[] sorted, int percentile) {
        int index = Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** The bench measures latency on loopback, not trust: it accepts the server's certificate unchecked. */
    private static SSLContext trustAll() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
