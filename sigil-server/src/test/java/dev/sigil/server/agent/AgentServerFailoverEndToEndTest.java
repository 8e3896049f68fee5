package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.Eventually;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with several server addresses, over real sockets: a real server listed second behind an
 * address where nothing listens. The agent fails over to the server for attestation, sync and
 * signing, and once no listed server answers it keeps serving the SVIDs it holds over the Workload API.
 */
class AgentServerFailoverEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/billing";
    private static final Duration WITHIN = Duration.ofSeconds(30);
    private final ObjectMapper json = new ObjectMapper();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());

    @TempDir
    Path dir;

    @AfterEach
    void closeGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void aDeadFirstAddressFailsOverToTheServerAndCachedSvidsOutliveTheServer() throws Exception {
        int dead = closedPort();
        SigilServer server = startServer();
        try {
            AgentConfig config = agentConfig(server, dead);
            assertThat(config.serverAddress()).as("the dead address is tried first").isEqualTo(new AgentConfig.ServerAddress("127.0.0.1", dead));

            try (AgentRuntime agent = AgentRuntime.start(config, Clock.systemUTC())) {
                // attested through the second address (start() returns only once attestation and a first sync succeeded)
                assertThat(agent.agent().state()).isInstanceOf(AgentState.Running.class);
                Eventually.within(WITHIN, () -> assertThat(agent.agent().cache().identityCount()).isPositive());
                X509SVIDResponse before = fetchX509(agent.workloadApiSocket());
                assertThat(before.getSvids(0).getSpiffeId()).isEqualTo(WORKLOAD);

                int serverPort = server.agentApiAddress().getPort();
                server.close();
                assertThatThrownBy(() -> new Socket("127.0.0.1", serverPort).close())
                        .as("nothing answers at the server's address any more").isInstanceOf(java.io.IOException.class);

                // a sync with no server answering fails without stopping the agent ...
                agent.agent().tick();
                assertThat(agent.agent().state()).isInstanceOf(AgentState.Running.class);
                assertThat(agent.stopped()).isNotDone();
                // ... and a workload that asks now still gets the cached SVID
                X509SVIDResponse after = fetchX509(agent.workloadApiSocket());
                assertThat(after.getSvids(0).getSpiffeId()).isEqualTo(WORKLOAD);
                assertThat(after.getSvids(0).getX509Svid()).isEqualTo(before.getSvids(0).getX509Svid());
            }
        } finally {
            server.close();
        }
    }

    /** A local port where nothing listens (bound, noted, closed). */
    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    private X509SVIDResponse fetchX509(Path socket) throws Exception {
        ManagedChannel channel = WorkloadDriftEndToEndTest.channel(socket, group);
        try {
            LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
            SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(),
                    WorkloadDriftEndToEndTest.collect(events));
            Object first = events.poll(WITHIN.toSeconds(), TimeUnit.SECONDS);
            if (first instanceof StatusRuntimeException e) {
                throw new AssertionError("the workload api refused the stream: " + e.getStatus(), e);
            }
            assertThat(first).isInstanceOf(X509SVIDResponse.class);
            X509SVIDResponse response = (X509SVIDResponse) first;
            assertThat(response.getSvidsCount()).isPositive();
            return response;
        } finally {
            channel.shutdownNow();
        }
    }

    private SigilServer startServer() throws Exception {
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
                bundle_endpoint:
                  enabled: false
                """.formatted(dir.resolve("data")));
        return SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), SigilServer.Options.defaults());
    }

    /** A join token and an entry for this JVM's uid under the agent it names; the agent lists {@code deadPort} first. */
    private AgentConfig agentConfig(SigilServer server, int deadPort) throws Exception {
        JsonNode token = admin(server, "/v1/join-tokens", "{\"ttl\": 600}");
        String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        admin(server, "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-a", "selectors": [{"type": "unix", "value": "uid:%d"}]}"""
                .formatted(WORKLOAD, agentId, uid));
        Path agentDir = Files.createDirectories(dir.resolve("agent"));
        Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
        Path bundle = agentDir.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        List<AgentConfig.ServerAddress> servers = List.of(new AgentConfig.ServerAddress("127.0.0.1", deadPort),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()));
        return new AgentConfig(agentDir, new TrustDomain("example.org"), servers, new AgentConfig.TrustBootstrap.BundleFile(bundle),
                dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN,
                AgentConfig.DEFAULT_REATTEST_INTERVAL, dev.sigil.agent.config.AgentPlugins.defaultWorkloadAttestors());
    }

    private JsonNode admin(SigilServer server, String path, String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "POST", path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }
}
