package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.LiveSession;
import io.grpc.ManagedChannel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registration changes reach a running workload end to end: a real agent serves this JVM (by uid), which
 * holds an open X.509-SVID stream, an access token and a PostgreSQL credential with an open session.
 * Deleting its entry, or banning its agent, ends the stream and revokes the token and the PostgreSQL
 * role with its session within a few seconds (one agent sync interval plus one server tick).
 */
class RegistrationRevocationEndToEndTest {
    private static final String HOLDER = "spiffe://example.org/billing";
    /**
     * How long the whole chain may take: the server sees the change within a second, withdraws the holder,
     * revokes its lease and token; the agent learns of a ban at its next sync (1 s) and stops, ending the
     * stream. Usually 1-3 s; on a loaded 2-core CI machine it has taken over 5 s, so the bound is generous
     * (the loop ends as soon as every effect is seen).
     */
    private static final Duration WITHIN = Duration.ofSeconds(15);
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void deletingTheEntryCutsTheStreamAndRevokesTheWorkloadsCredentials() throws Exception {
        scenario((server, entryId, agentId) -> RawHttp.unix(server.admin().socketPath(), "DELETE", "/v1/entries/" + entryId).status());
    }

    @Test
    void banningTheAgentCutsTheStreamAndRevokesTheWorkloadsCredentials() throws Exception {
        scenario((server, entryId, agentId) -> RawHttp.unix(server.admin().socketPath(), "POST", "/v1/agents/ban", "application/json",
                ("{\"spiffe_id\": \"" + agentId + "\"}").getBytes(StandardCharsets.UTF_8)).status());
    }

    @FunctionalInterface
    private interface Change {
        int apply(SigilServer server, String entryId, String agentId) throws Exception;
    }

    private void scenario(Change change) throws Exception {
        BrokerDatabase pg = BrokerDatabase.create();
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
                """.formatted(dir.resolve("server")) + pg.brokersYaml(dir));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())))) {
            JsonNode token = admin(server, "POST", "/v1/join-tokens", "{\"ttl\": 600}");
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            String entryId = admin(server, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-a", "selectors": [{"type": "unix", "value": "uid:%d"}]}"""
                    .formatted(HOLDER, agentId, uid)).path("id").asText();
            Path agentDir = Files.createDirectories(dir.resolve("agent"));
            Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
            Path bundle = agentDir.resolve("bundle.pem");
            Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
            AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain("example.org"),
                    new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                    new AgentConfig.TrustBootstrap.BundleFile(bundle),
                    dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                    agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
            try (AgentRuntime agent = AgentRuntime.start(agentConfig, Clock.systemUTC())) {
                long ready = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (agent.agent().cache().identityCount() == 0 && System.nanoTime() < ready) {
                    Thread.sleep(50);
                }
                ManagedChannel channel = WorkloadDriftEndToEndTest.channel(agent.workloadApiSocket(), group);
                try {
                    LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
                    SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(),
                            WorkloadDriftEndToEndTest.collect(events));
                    assertThat(events.poll(30, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);
                    Credentials held = Credentials.obtain(server, HOLDER);
                    try (LiveSession live = LiveSession.open(held.pgUrl(), held.pgUser(), held.pgPassword())) {
                        Connection session = live.connection();
                        assertThat(held.reads(session)).isTrue();

                        long changed = System.nanoTime();
                        assertThat(change.apply(server, entryId, agentId)).isBetween(200, 299);

                        long deadline = changed + WITHIN.toNanos();
                        boolean streamEnded = false;
                        while (System.nanoTime() < deadline && (!streamEnded || live.alive() || held.tokenActive(server)
                                || held.roleExists(pg.database()))) {
                            Object event = events.poll(20, TimeUnit.MILLISECONDS);
                            streamEnded |= event instanceof Throwable || "completed".equals(event)
                                    || (event instanceof X509SVIDResponse response && response.getSvidsCount() == 0);
                        }
                        // the open stream itself ends (an agent stopping from its interrupted watcher thread once
                        // left it without a final status; StreamLifecycleTest pins that down)
                        assertThat(streamEnded).as("the open stream ended or was emptied").isTrue();
                        assertThat(live.ended()).as("the database session is terminated (57P01), not merely stripped of"
                                + " privileges (42501)").contains(LiveSession.TERMINATED);
                        assertThat(held.roleExists(pg.database())).as("the lease's role").isFalse();
                        assertThat(held.tokenActive(server)).as("introspection of the access token").isFalse();
                        assertThat(held.tokenMarked(server)).as("the token's status list bit").isTrue();
                    }
                } finally {
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private JsonNode admin(SigilServer server, String method, String path, String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return json.readTree(reply.body());
    }
}
