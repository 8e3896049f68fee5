package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.testkit.Eventually;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sigil dev} (a real server and agent, real sockets) against the independent java-spiffe
 * client: the current user gets exactly its registered identity, a process running as another uid
 * gets nothing until an entry names its uid, and then only that identity.
 */
class DevEnvironmentInteropTest {
    private static final int NOBODY = 65534;
    private final ObjectMapper json = new ObjectMapper();
    private Path root;
    private CountDownLatch stop;
    private CompletableFuture<CliHarness.Result> dev;

    @BeforeEach
    void startDev() throws Exception {
        // Not @TempDir: that one is 0700, and a workload of another uid must reach root/public/api.sock.
        root = Files.createTempDirectory("sigil-dev-test-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        stop = new CountDownLatch(1);
        StopSignal signal = action -> {
            stop.await();
            action.run();
        };
        CliHarness harness = new CliHarness(Map.of(), root, new dev.sigil.cli.server.SigilServerLauncher(), signal);
        dev = CompletableFuture.supplyAsync(() -> harness.run("dev", "--data-dir", root.resolve("env").toString(),
                "--bundle-port", "0", "--agent-api-port", "0", "--token-port", "0"));
        Path socket = socket();
        for (int i = 0; i < 600 && !Files.exists(socket) && !dev.isDone(); i++) {
            Thread.sleep(50);
        }
        assertThat(socket).as("dev finished early: %s", dev.isDone() ? dev.join() : "").exists();
    }

    @AfterEach
    void stopDev() throws Exception {
        stop.countDown();
        CliHarness.Result result = dev.get(30, TimeUnit.SECONDS);
        assertThat(result.exitCode()).as(result.err()).isZero();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    private Path socket() {
        return root.resolve("env/public/api.sock");
    }

    private String socketUri() {
        return "unix:" + socket();
    }

    private CliHarness admin() {
        return new CliHarness(Map.of(), root);
    }

    @Test
    void withBundlePortZeroTheIssuerNamesThePortTheBundleEndpointListensOn() throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(socketUri()).build())) {
            JwtSvid jwt = client.fetchJwtSvid("https://api.example");
            java.net.URI issuer = java.net.URI.create(String.valueOf(jwt.getClaims().get("iss")));
            assertThat(issuer.getPort()).as("issuer %s", issuer).isPositive();
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", issuer.getPort()), 2000); // the bundle endpoint is there
            }
        }
    }

    @Test
    void aLeakedJwtSvidReportedWithTheCliNoLongerValidates() throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(socketUri()).build())) {
            JwtSvid jwt = client.fetchJwtSvid("https://leaky.example");
            assertThat(client.validateJwtSvid(jwt.getToken(), "https://leaky.example").getSpiffeId()).isEqualTo(jwt.getSpiffeId());

            CliHarness.Result report = admin().run("leak", "report", "--data-dir", root.resolve("env/server").toString(), "--value", jwt.getToken());
            assertThat(report.exitCode()).as(report.err()).isZero();

            // the agent asks the server at most once a second per token: poll until it refuses, for at most 10 s
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline && stillValidates(client, jwt.getToken())) {
                Thread.onSpinWait();
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.validateJwtSvid(jwt.getToken(), "https://leaky.example"))
                    .hasStackTraceContaining("INVALID_ARGUMENT").hasStackTraceContaining("revoked");
        }
    }

    private static boolean stillValidates(WorkloadApiClient client, String token) {
        try {
            client.validateJwtSvid(token, "https://leaky.example");
            return true;
        } catch (Exception refused) {
            return false;
        }
    }

    @Test
    void currentUserReceivesItsRegisteredIdentityThroughJavaSpiffe() throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(socketUri()).build())) {
            X509Context context = client.fetchX509Context();
            X509Svid svid = context.getDefaultSvid();
            String user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9._-]", "_");
            assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://sigil.test/dev/" + user);
            X509Bundle bundle = context.getX509BundleSet().getBundleForTrustDomain(TrustDomain.parse("sigil.test"));
            Set<TrustAnchor> anchors = new HashSet<>();
            bundle.getX509Authorities().forEach(ca -> anchors.add(new TrustAnchor(ca, null)));
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(svid.getChain()), parameters);

            JwtSvid jwt = client.fetchJwtSvid("https://api.example");
            assertThat(jwt.getSpiffeId()).isEqualTo(svid.getSpiffeId());
            assertThat(client.validateJwtSvid(jwt.getToken(), "https://api.example").getSpiffeId()).isEqualTo(svid.getSpiffeId());
        }
    }

    /**
     * Envoy's Secret Discovery Service from the real agent, with a client built from Envoy's API definitions
     * (no security header, as Envoy sends none): the caller's default SVID with a key that pairs with it,
     * and the ROOTCA bundle as a SPIFFE validator configuration that the chain verifies against.
     */
    @Test
    void envoySecretDiscoveryServesTheCurrentUsersSvidAndBundle() throws Exception {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.epoll.EpollIoHandler.newFactory());
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder
                .forAddress(new io.netty.channel.unix.DomainSocketAddress(socket().toString()))
                .channelType(io.netty.channel.epoll.EpollDomainSocketChannel.class).eventLoopGroup(group)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null).usePlaintext().build();
        try {
            var request = io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.newBuilder()
                    .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
                    .addResourceNames("default").addResourceNames("ROOTCA").build();
            var fetched = new java.util.concurrent.atomic.AtomicReference<io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse>();
            // UNAVAILABLE until the agent's first sync: retried, as Envoy retries
            Eventually.within(java.time.Duration.ofSeconds(30), () -> fetched.set(
                    io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(5, TimeUnit.SECONDS).fetchSecrets(request)));
            var secrets = fetched.get();
            Map<String, io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> byName = new java.util.HashMap<>();
            for (com.google.protobuf.Any resource : secrets.getResourcesList()) {
                var secret = resource.unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class);
                byName.put(secret.getName(), secret);
            }
            assertThat(byName).containsOnlyKeys("default", "ROOTCA");

            var certificate = byName.get("default").getTlsCertificate();
            List<X509Certificate> chain = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var cert : factory.generateCertificates(certificate.getCertificateChain().getInlineBytes().newInput())) {
                chain.add((X509Certificate) cert);
            }
            String user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9._-]", "_");
            assertThat(SpiffeTlsPeer.spiffeId(chain.getFirst())).isEqualTo("spiffe://sigil.test/dev/" + user);
            String keyPem = certificate.getPrivateKey().getInlineBytes().toStringUtf8();
            java.security.PrivateKey key = java.security.KeyFactory.getInstance(chain.getFirst().getPublicKey().getAlgorithm())
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getMimeDecoder().decode(
                            keyPem.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", ""))));
            byte[] data = "proof of possession".getBytes(StandardCharsets.UTF_8);
            java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(data);
            java.security.Signature verifier = java.security.Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(chain.getFirst());
            verifier.update(data);
            assertThat(verifier.verify(signer.sign())).as("the served key pairs with the served certificate").isTrue();

            var context = byName.get("ROOTCA").getValidationContext();
            assertThat(context.getCustomValidatorConfig().getName()).isEqualTo("envoy.tls.cert_validator.spiffe");
            var validator = context.getCustomValidatorConfig().getTypedConfig()
                    .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig.class);
            assertThat(validator.getTrustDomainsList()).singleElement()
                    .satisfies(domain -> assertThat(domain.getName()).isEqualTo("sigil.test"));
            Set<TrustAnchor> anchors = new HashSet<>();
            for (var ca : factory.generateCertificates(validator.getTrustDomains(0).getTrustBundle().getInlineBytes().newInput())) {
                anchors.add(new TrustAnchor((X509Certificate) ca, null));
            }
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(chain), parameters);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void processOfAnotherUidGetsOnlyItsOwnIdentityAndTheTwoBuildMutualTls() throws Exception {
        assumeThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).as("needs root to switch uid").isEqualTo(0);
        assumeThat(Files.isExecutable(Path.of("/usr/bin/setpriv"))).isTrue();
        Path classpath = worldReadableClasspath();

        assertThat(probeAsNobody(classpath)).startsWith("DENIED");

        JsonNode entries = json.readTree(admin().run("entry", "list", "--data-dir", root.resolve("env/server").toString(),
                "--output", "json").out());
        String agentId = entries.path("entries").get(0).path("parent_id").asText();
        CliHarness.Result created = admin().run("entry", "create", "--data-dir", root.resolve("env/server").toString(),
                "--spiffe-id", "spiffe://sigil.test/nobody", "--parent-id", agentId, "--selector", "unix:uid:" + NOBODY,
                "--owner", "team-test");
        assertThat(created.exitCode()).as(created.err()).isZero();

        String answer = "";
        for (int attempt = 0; attempt < 20 && !answer.startsWith("ID"); attempt++) {
            Thread.sleep(500);
            answer = probeAsNobody(classpath);
        }
        assertThat(answer.lines().toList()).containsExactly("ID spiffe://sigil.test/nobody");

        // Two processes, two uids: each authenticates the other by the SVID it fetched with java-spiffe.
        Process server = new ProcessBuilder(asNobody(classpath, SpiffeTlsPeer.class.getName())).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String portLine = lines.readLine();
            assertThat(portLine).as("peer stderr: %s", portLine == null ? new String(server.getErrorStream().readAllBytes()) : "")
                    .startsWith("PORT ");
            X509Context mine = SpiffeTlsPeer.fetch(socketUri());
            try (SSLSocket socket = (SSLSocket) SpiffeTlsPeer.context(mine).getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), Integer.parseInt(portLine.substring(5)))) {
                socket.startHandshake();
                assertThat(SpiffeTlsPeer.spiffeId((X509Certificate) socket.getSession().getPeerCertificates()[0]))
                        .isEqualTo("spiffe://sigil.test/nobody");
                String greeting = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
                assertThat(greeting).isEqualTo("hello " + mine.getDefaultSvid().getSpiffeId() + " from spiffe://sigil.test/nobody");
                socket.getOutputStream().write("bye\n".getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
            }
            assertThat(lines.readLine()).isEqualTo("PEER " + mine.getDefaultSvid().getSpiffeId());
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.destroyForcibly();
        }
    }

    private List<String> asNobody(Path classpath, String mainClass) {
        return List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", classpath + "/*:" + classpath + "/classes", mainClass, socketUri());
    }

    private String probeAsNobody(Path classpath) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(asNobody(classpath, SpiffeProbe.class.getName())).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        String err = new String(process.getErrorStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).as("probe stderr: %s", err).isNotEmpty();
        return out;
    }

    /** The test classpath copied where another uid can read it (the Maven repository under /root is private). */
    private Path worldReadableClasspath() throws IOException {
        Path target = root.resolve("cp");
        Files.createDirectories(target.resolve("classes"));
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(":")));
        int index = 0;
        for (String entry : entries) {
            Path source = Path.of(entry);
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.walk(source)) {
                    for (Path file : files.filter(Files::isRegularFile).toList()) {
                        Path copy = target.resolve("classes").resolve(source.relativize(file).toString());
                        Files.createDirectories(copy.getParent());
                        Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } else if (Files.isRegularFile(source)) {
                Files.copy(source, target.resolve((index++) + "-" + source.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (Stream<Path> files = Files.walk(target)) {
            for (Path path : files.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return target;
    }
}
