package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.client.HttpsFetcher;
import dev.sigil.client.InvalidTokenException;
import dev.sigil.client.WimseVerifier;
import dev.sigil.client.WorkloadIdentity;
import dev.sigil.client.WorkloadProofs;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.MutableClock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WIMSE workload identity through the real path: a server, a real agent attested with a join token serving this
 * test's uid on its Workload API socket, the CLI run as that workload ({@code sigil agent api fetch wit},
 * {@code sigil agent api wpt}), and a small HTTP service that verifies the two headers with sigil-client's
 * {@link WimseVerifier}, its keys fetched from the server's bundle endpoint. The service accepts the workload's
 * request and refuses forged, misdirected, replayed, expired and foreign tokens; the agent gives a WIT-SVID to no
 * caller it has no identity for.
 */
class WimseEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/billing/report-job";

    @TempDir
    Path dir;
    private SigilServer server;
    private AgentRuntime agent;
    private CliHarness cli;
    private HttpServer service;
    private String audience;
    private String entryId;
    private String agentId;
    private final MutableClock serviceClock = MutableClock.at(Instant.now());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults());
        JsonNode token;
        try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
            token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            entryId = admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD, "parent_id", agentId,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing")).json().path("id").asText();
        }
        Path agentDir = Files.createDirectories(dir.resolve("agent"));
        Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
        Path bundle = agentDir.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
        agent = AgentRuntime.start(agentConfig, Clock.systemUTC());
        Eventually.within(Duration.ofSeconds(30), () -> assertThat(agent.agent().cache().identityCount()).as("identities synced").isPositive());
        cli = new CliHarness(Map.of(), dir);
        startService();
    }

    /**
     * The relying party: {@code /orders} trusts example.org, {@code /foreign} trusts another trust domain; both take
     * their wit-svid keys from the server's bundle endpoint (https_spiffe). 200 with the caller's SPIFFE ID, or 401
     * with the reason.
     */
    private void startService() throws Exception {
        URI bundleUri = URI.create("https://127.0.0.1:" + server.bundleEndpointAddress().orElseThrow().getPort() + "/");
        HttpsFetcher fetcher = HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), server.spiffeId().toString());
        WimseVerifier ours = WimseVerifier.builder("example.org").bundleUri(bundleUri).fetcher(fetcher).clock(serviceClock).build();
        WimseVerifier foreign = WimseVerifier.builder("other.example").bundleUri(bundleUri).fetcher(fetcher).clock(serviceClock).build();
        service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        audience = "http://127.0.0.1:" + service.getAddress().getPort() + "/orders";
        for (String path : List.of("/orders", "/foreign")) {
            WimseVerifier verifier = path.equals("/orders") ? ours : foreign;
            service.createContext(path, exchange -> {
                String wit = exchange.getRequestHeaders().getFirst(WimseVerifier.WIT_HEADER);
                String wpt = exchange.getRequestHeaders().getFirst(WimseVerifier.WPT_HEADER);
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                Optional<String> accessToken = Optional.ofNullable(authorization).filter(a -> a.startsWith("Bearer ")).map(a -> a.substring(7));
                int status;
                String body;
                try {
                    WorkloadIdentity caller = verifier.verify(wit, wpt, "http://127.0.0.1:" + service.getAddress().getPort() + path,
                            accessToken, Optional.empty());
                    status = 200;
                    body = caller.spiffeId();
                } catch (InvalidTokenException e) {
                    status = 401;
                    body = e.reason() + ": " + e.getMessage();
                }
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, bytes.length);
                exchange.getResponseBody().write(bytes);
                exchange.close();
            });
        }
        service.start();
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.stop(0);
        }
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aWorkloadCallsAServiceWithItsWitSvidAndAProofFromTheCli() throws Exception {
        Map<String, String> headers = proofFromCli("--audience", audience);

        HttpResponse<String> response = call(audience, headers);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(WORKLOAD);
        SignedJWT wit = SignedJWT.parse(headers.get(WimseVerifier.WIT_HEADER));
        assertThat(wit.getHeader().getType()).isEqualTo(new JOSEObjectType("wit+jwt"));
        assertThat(server.authority().bundle().witAuthority(wit.getHeader().getKeyID())).as("signed by a wit-svid key").isPresent();
        assertThat(wit.getJWTClaimsSet().getAudience()).isEmpty();

        CliHarness.Result fetched = cli.run("agent", "api", "fetch", "wit", "--socket", socket(), "--write", dir.resolve("wit").toString());
        assertThat(fetched.exitCode()).as(fetched.err()).isZero();
        assertThat(fetched.out()).contains(WORKLOAD).contains(wit.getHeader().getKeyID()).doesNotContain("\"d\"");
        assertThat(Files.getPosixFilePermissions(dir.resolve("wit/wit.key.jwk"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        Map<String, String> fromFiles = proofFromCli("--from", dir.resolve("wit").toString(), "--audience", audience);
        HttpResponse<String> again = call(audience, fromFiles);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    }

    @Test
    void aProofSignedWithAnotherKeyIsRefused() throws Exception {
        Path files = writeWit();
        String wit = Files.readString(files.resolve("wit.jwt")).strip();
        ECKey stranger = new ECKeyGenerator(Curve.P_256).algorithm(JWSAlgorithm.ES256).generate();

        String proof = WorkloadProofs.create(wit, stranger.toJSONString(), audience, Duration.ofSeconds(60), Optional.empty(), Optional.empty(),
                Clock.systemUTC());
        HttpResponse<String> response = call(audience, Map.of(WimseVerifier.WIT_HEADER, wit, WimseVerifier.WPT_HEADER, proof));

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).startsWith("BAD_SIGNATURE").contains("cnf key");
    }

    @Test
    void aProofForAnotherServiceIsRefused() throws Exception {
        Map<String, String> headers = proofFromCli("--audience", "http://127.0.0.1:1/elsewhere");

        HttpResponse<String> response = call(audience, headers);

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).startsWith("WRONG_AUDIENCE").contains("/elsewhere");
    }

    @Test
    void aReplayedProofIsRefused() throws Exception {
        Map<String, String> headers = proofFromCli("--audience", audience);
        assertThat(call(audience, headers).statusCode()).isEqualTo(200);

        HttpResponse<String> replay = call(audience, headers);

        assertThat(replay.statusCode()).isEqualTo(401);
        assertThat(replay.body()).startsWith("REPLAYED");
    }

    @Test
    void aProofBindingAnAccessTokenIsRefusedWithoutItAndAcceptedWithIt() throws Exception {
        Path token = dir.resolve("access-token");
        Files.writeString(token, "an-access-token");
        Map<String, String> headers = proofFromCli("--audience", audience, "--access-token-file", token.toString());

        HttpResponse<String> without = call(audience, headers);
        assertThat(without.statusCode()).isEqualTo(401);
        assertThat(without.body()).startsWith("PROOF_MISMATCH").contains("ath");

        Map<String, String> fresh = proofFromCli("--audience", audience, "--access-token-file", token.toString());
        java.util.Map<String, String> withToken = new java.util.HashMap<>(fresh);
        withToken.put("Authorization", "Bearer an-access-token");
        HttpResponse<String> with = call(audience, withToken);
        assertThat(with.statusCode()).as(with.body()).isEqualTo(200);
    }

    @Test
    void aWitSignedWithTheJwtSvidKeyOrTypedAsAJwtIsRefused() throws Exception {
        Path files = writeWit();
        String wit = Files.readString(files.resolve("wit.jwt")).strip();
        String key = Files.readString(files.resolve("wit.key.jwk")).strip();
        SignedJWT genuine = SignedJWT.parse(wit);
        // the very claims of the workload's WIT-SVID, typed wit+jwt, but signed by the trust domain's JWT-SVID key
        String forged = server.authority().signJwt(genuine.getPayload().toString(), genuine.getJWTClaimsSet().getExpirationTime().toInstant(),
                "wit+jwt").compact();
        assertThat(server.authority().bundle().jwtAuthority(SignedJWT.parse(forged).getHeader().getKeyID())).isPresent();

        HttpResponse<String> response = call(audience, Map.of(WimseVerifier.WIT_HEADER, forged, WimseVerifier.WPT_HEADER,
                WorkloadProofs.create(forged, key, audience, Duration.ofSeconds(60), Optional.empty(), Optional.empty(), Clock.systemUTC())));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).startsWith("UNKNOWN_KEY").contains("not a wit-svid key");

        String jwtTyped = server.authority().signJwt(genuine.getPayload().toString(), genuine.getJWTClaimsSet().getExpirationTime().toInstant())
                .compact();
        HttpResponse<String> typed = call(audience, Map.of(WimseVerifier.WIT_HEADER, jwtTyped, WimseVerifier.WPT_HEADER,
                WorkloadProofs.create(jwtTyped, key, audience, Duration.ofSeconds(60), Optional.empty(), Optional.empty(), Clock.systemUTC())));
        assertThat(typed.statusCode()).isEqualTo(401);
        assertThat(typed.body()).startsWith("WRONG_TYPE").contains("JWT");
    }

    @Test
    void anExpiredWitIsRefused() throws Exception {
        Map<String, String> headers = proofFromCli("--audience", audience);
        Instant expiry = SignedJWT.parse(headers.get(WimseVerifier.WIT_HEADER)).getJWTClaimsSet().getExpirationTime().toInstant();

        serviceClock.set(expiry.plus(Duration.ofMinutes(1)));
        HttpResponse<String> response = call(audience, headers);

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).startsWith("EXPIRED").contains("wit-svid expired");
    }

    @Test
    void aWitOfAnotherTrustDomainIsRefused() throws Exception {
        String foreignAudience = audience.replace("/orders", "/foreign");
        Map<String, String> headers = proofFromCli("--audience", foreignAudience);

        HttpResponse<String> response = call(foreignAudience, headers);

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).startsWith("WRONG_TRUST_DOMAIN").contains("other.example");
    }

    @Test
    void aCallerWithoutThatIdentityOrWithoutAnyGetsNoWitSvid() throws Exception {
        CliHarness.Result other = cli.run("agent", "api", "fetch", "wit", "--socket", socket(), "--spiffe-id", "spiffe://example.org/someone-else");
        assertThat(other.exitCode()).isNotZero();
        assertThat(other.err()).contains("PERMISSION_DENIED");
        assertThat(other.out()).doesNotContain("Key ID");

        try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
            admin.delete("/v1/entries/" + entryId);
        }
        Eventually.within(Duration.ofSeconds(20), () -> assertThat(agent.agent().cache().entryCount()).isZero());
        CliHarness.Result none = cli.run("agent", "api", "fetch", "wit", "--socket", socket());
        assertThat(none.exitCode()).isNotZero();
        assertThat(none.err()).contains("PERMISSION_DENIED");
        assertThat(none.out()).doesNotContain(WORKLOAD).doesNotContain("Key ID");
    }

    @Test
    void anOpenFetchWitSvidStreamGetsANewWitSvidAndKeyBeforeTheOldOneExpires() throws Exception {
        String shortLived = "spiffe://example.org/billing/short-lived";
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
            admin.post("/v1/entries", Map.of("spiffe_id", shortLived, "parent_id", agentId, "jwt_svid_ttl", 10,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing"));
        }
        Eventually.within(Duration.ofSeconds(20), () -> assertThat(agent.agent().cache().entryCount()).isEqualTo(2));
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.epoll.EpollIoHandler.newFactory());
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder.forAddress(new io.netty.channel.unix.DomainSocketAddress(socket()))
                .channelType(io.netty.channel.epoll.EpollDomainSocketChannel.class).eventLoopGroup(group)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null).usePlaintext().build();
        io.grpc.Context.CancellableContext scope = io.grpc.Context.current().withCancellation();
        io.grpc.Context previous = scope.attach();
        try {
            io.grpc.Metadata headers = new io.grpc.Metadata();
            headers.put(io.grpc.Metadata.Key.of("workload.spiffe.io", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "true");
            java.util.Iterator<dev.sigil.proto.workload.WITSVIDResponse> stream = dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc
                    .newBlockingStub(channel).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                    .fetchWITSVID(dev.sigil.proto.workload.WITSVIDRequest.newBuilder().setSpiffeId(shortLived).build());

            dev.sigil.proto.workload.WITSVID first = stream.next().getSvids(0);
            Instant firstExpiry = SignedJWT.parse(first.getWitSvid()).getJWTClaimsSet().getExpirationTime().toInstant();
            dev.sigil.proto.workload.WITSVID second = stream.next().getSvids(0);

            assertThat(Instant.now()).as("pushed before the first one expired").isBefore(firstExpiry);
            assertThat(second.getSpiffeId()).isEqualTo(shortLived);
            assertThat(second.getWitSvid()).isNotEqualTo(first.getWitSvid());
            assertThat(second.getWitSvidKey()).as("a new key").isNotEqualTo(first.getWitSvidKey());
            String wit = second.getWitSvid();
            String proof = WorkloadProofs.create(wit, second.getWitSvidKey(), audience, Duration.ofSeconds(60), Optional.empty(),
                    Optional.empty(), Clock.systemUTC());
            serviceClock.set(Instant.now());
            HttpResponse<String> response = call(audience, Map.of(WimseVerifier.WIT_HEADER, wit, WimseVerifier.WPT_HEADER, proof));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(shortLived);
        } finally {
            scope.detach(previous);
            scope.cancel(null);
            channel.shutdownNow();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private Path writeWit() {
        Path files = dir.resolve("wit-" + System.nanoTime());
        CliHarness.Result fetched = cli.run("agent", "api", "fetch", "wit", "--socket", socket(), "--write", files.toString());
        assertThat(fetched.exitCode()).as(fetched.err()).isZero();
        return files;
    }

    /** {@code sigil agent api wpt ...}: the two header lines it prints. */
    private Map<String, String> proofFromCli(String... options) {
        List<String> args = new java.util.ArrayList<>(List.of("agent", "api", "wpt", "--socket", socket()));
        args.addAll(List.of(options));
        CliHarness.Result result = cli.run(args.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.err()).isZero();
        Map<String, String> headers = new java.util.HashMap<>();
        result.out().lines().forEach(line -> {
            int colon = line.indexOf(": ");
            headers.put(line.substring(0, colon), line.substring(colon + 2));
        });
        assertThat(headers).containsOnlyKeys(WimseVerifier.WIT_HEADER, WimseVerifier.WPT_HEADER);
        return headers;
    }

    private HttpResponse<String> call(String uri, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10)).GET();
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String socket() {
        return agent.workloadApiSocket().toString();
    }
}
