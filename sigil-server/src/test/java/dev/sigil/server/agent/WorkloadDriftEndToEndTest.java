package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.Agent;
import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.drift.DriftReporter;
import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.agent.workload.WorkloadApiServer;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.LiveSession;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workload drift end to end with real processes: a real server, an agent attested with a join token,
 * the agent's Workload API with its drift monitor and reporter (wired as {@code AgentRuntime} wires
 * them), and a child process running a copy of {@code sleep}. This JVM opens the stream on the child's
 * behalf (the Workload API's procfs root maps this JVM's pid, the kernel-reported peer, to the child's
 * {@code /proc/<pid>}). Replacing the child's binary on disk withdraws the SVID from the stream within
 * the 2 s target and leaves a {@code workload.drift} record at the server that the drift listener saw.
 */
class WorkloadDriftEndToEndTest {
    private static final int OWN_PID = (int) ProcessHandle.current().pid();
    private static final Duration TARGET = Duration.ofSeconds(2);
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void replacedBinaryLosesItsSvidAndTheDriftIsAuditedAtTheServer() throws Exception {
        withDriftingWorkload("bundle_endpoint:\n  enabled: false\n", Optional.empty(), (server, agentId, binary, events, delivered) -> {
            long replaced = System.nanoTime();
            replace(binary);

            Object ended = events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(ended).isInstanceOfSatisfying(Throwable.class,
                    e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
            DriftEvent event = delivered.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(System.nanoTime() - replaced).isLessThan(TARGET.toNanos());
            assertThat(event).isNotNull();
            assertThat(event.agentId().toString()).isEqualTo(agentId);
            assertThat(event.reason()).isEqualTo(DriftEvent.Reason.SELECTORS_CHANGED);
            assertThat(event.spiffeIds()).hasToString("[spiffe://example.org/billing]");

            JsonNode records = admin(server, "GET", "/v1/audit?kind=drift&workload=spiffe://example.org/billing", null)
                    .path("results");
            assertThat(records).hasSize(1);
            JsonNode details = json.readTree(records.get(0).path("details").asText());
            assertThat(details.path("drift_id").asText()).isEqualTo(event.driftId());
            assertThat(details.path("selectors_removed").asText()).contains("unix:sha256:", "unix:path:" + binary);
        });
    }

    /**
     * The scenario: the drifting workload also holds an access token and a PostgreSQL
     * credential with an open session. Within the target the stream is cut, the token reads inactive
     * and is marked on its status list, the PostgreSQL role is gone with its session, and the audit
     * trail links the drift to every revocation by its drift id.
     */
    @Test
    void driftRevokesTheWorkloadsTokenAndDatabaseCredentialWithinTheTarget() throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
        String config = "bundle_endpoint:\n  port: 0\n" + pg.brokersYaml(dir);
        // Everything is allowed except a milder drift response, so a drift is answered with revoke.
        PolicyEngine policy = request -> request.action().startsWith("drift:")
                ? new Decision.Deny(List.of("no mild response"))
                : new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        withDriftingWorkload(config, Optional.of(policy), (server, agentId, binary, events, delivered) -> {
            Credentials held = Credentials.obtain(server, "spiffe://example.org/billing");
            try (LiveSession live = LiveSession.open(held.pgUrl(), held.pgUser(), held.pgPassword())) {
                assertThat(held.reads(live.connection())).isTrue();
                assertThat(held.tokenActive(server)).isTrue();

                long replaced = System.nanoTime();
                replace(binary);

                assertThat(events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(Throwable.class);
                DriftEvent event = delivered.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(event).isNotNull();
                long deadline = replaced + TARGET.toNanos();
                while (System.nanoTime() < deadline
                        && (live.alive() || held.tokenActive(server) || !held.tokenMarked(server) || held.roleExists(pg.database()))) {
                    Thread.sleep(20);
                }
                assertThat(live.ended()).as("the database session after the drift is terminated (57P01), not merely"
                        + " stripped of privileges (42501)").contains(LiveSession.TERMINATED);
                assertThat(held.roleExists(pg.database())).as("the lease's role after the drift").isFalse();
                assertThat(held.tokenActive(server)).as("introspection after the drift").isFalse();
                assertThat(held.tokenMarked(server)).as("the token's status list bit after the drift").isTrue();
                assertThat(System.nanoTime() - replaced).as("drift to everything revoked").isLessThan(TARGET.toNanos());

                String responses = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=drift.respond").body();
                assertThat(responses).contains(event.driftId()).contains("revoke");
                String revocations = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?kind=credential").body();
                assertThat(revocations).contains("drift " + event.driftId());
            }
        });
    }

    /** What a test does with a running workload whose stream already carries its SVID. */
    @FunctionalInterface
    private interface Scenario {
        void run(SigilServer server, String agentId, Path binary, LinkedBlockingQueue<Object> events,
                 LinkedBlockingQueue<DriftEvent> delivered) throws Exception;
    }

    /**
     * Starts a server ({@code extraYaml} appended to its configuration), an agent and its Workload API
     * with the drift monitor, and a child process running a copy of {@code sleep} registered by uid and
     * binary sha256; opens FetchX509SVID on the child's behalf, checks the first response carries its
     * SVID, and hands over to {@code scenario}; stops everything afterwards.
     */
    private void withDriftingWorkload(String extraYaml, Optional<PolicyEngine> policy, Scenario scenario) throws Exception {
        LinkedBlockingQueue<DriftEvent> delivered = new LinkedBlockingQueue<>();
        Path binary = Files.createDirectories(dir.resolve("bin")).resolve("app");
        Files.copy(Path.of("/bin/sleep"), binary);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        Process child = new ProcessBuilder(binary.toString(), "300").start();
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Files.createSymbolicLink(proc.resolve(Integer.toString(OWN_PID)), Path.of("/proc", Long.toString(child.pid())));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (SigilServer server = startServer(delivered::add, extraYaml, policy)) {
            JsonNode token = admin(server, "POST", "/v1/join-tokens", "{\"ttl\": 600}");
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin(server, "POST", "/v1/entries", """
                    {"spiffe_id": "spiffe://example.org/billing", "parent_id": "%s", "owner": "team-a",
                     "selectors": [{"type": "unix", "value": "uid:%d"}, {"type": "unix", "value": "sha256:%s"}]}"""
                    .formatted(agentId, uid, sha256(binary)));
            Path bundle = dir.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            try (Agent agent = new Agent(agentConfig(server, bundle, token.path("token").asText()),
                    new JoinTokenAttestorClient(token.path("token").asText()), Clock.systemUTC());
                 DriftReporter reporter = DriftReporter.create(agent::reportDrift)) {
                agent.start();
                WorkloadApiConfig config = WorkloadApiConfig.defaults().withSocketPath(dir.resolve("agent/public/api.sock"))
                        .withProcRoot(proc);
                try (WorkloadApiServer api = WorkloadApiServer.create(config, agent.identities(),
                        List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)), reporter,
                        Clock.systemUTC()).start()) {
                    awaitTrue(() -> agent.cache().identityCount() == 1);
                    ManagedChannel channel = channel(api.socketPath(), group);
                    try {
                        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
                        SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(), collect(events));
                        assertThat(((X509SVIDResponse) events.poll(30, TimeUnit.SECONDS)).getSvids(0).getSpiffeId())
                                .isEqualTo("spiffe://example.org/billing");
                        scenario.run(server, agentId, binary, events, delivered);
                    } finally {
                        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                    }
                }
            }
        } finally {
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Replaces the workload's binary on disk the way a deployment (or an attacker) would: rename over it. */
    private static void replace(Path binary) throws Exception {
        Path replacement = binary.resolveSibling("app.new");
        Files.copy(Path.of("/bin/true"), replacement);
        Files.move(replacement, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private SigilServer startServer(DriftListener listener, String extraYaml, Optional<PolicyEngine> policy) throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                key_manager:
                  type: memory
                jwt:
                  issuer: https://localhost
                token_endpoint:
                  port: 0
                agent_api:
                  port: 0
                """.formatted(dir.resolve("data")) + extraYaml);
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), new SigilServer.Options(policy, List.of(), listener));
    }

    private AgentConfig agentConfig(SigilServer server, Path bundle, String token) throws Exception {
        Path data = Files.createDirectories(dir.resolve("agent"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        return new AgentConfig(data, new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle), dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token),
                data.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
    }

    private JsonNode admin(SigilServer server, String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }

    static ManagedChannel channel(Path socket, EventLoopGroup group) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER), "true");
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
                .build();
    }

    static <T> StreamObserver<T> collect(LinkedBlockingQueue<Object> events) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                events.add(value);
            }

            @Override
            public void onError(Throwable t) {
                events.add(t);
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        };
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            digest.update(in.readAllBytes());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("agent holds the workload's svid within 30 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
