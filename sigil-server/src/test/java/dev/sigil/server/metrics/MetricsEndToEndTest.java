package dev.sigil.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.observability.MetricsListenerSettings;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.Exchanges;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.Eventually;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics listeners of a real server and a real agent (join-token attestation, the Workload API over
 * its Unix socket, token exchanges over HTTPS), scraped over HTTP and parsed from the Prometheus text
 * format: counters move by exactly what was done, labels stay bounded whatever clients send, health
 * answers, and every metric the Grafana dashboard in docs/ queries is exported.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WORKLOAD = "spiffe://example.org/billing";
    private static final String ALLOWED = "https://api.example.com";
    private static final String FORBIDDEN = "https://forbidden.example.com";

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static AgentRuntime agent;
    private static EventLoopGroup group;

    @BeforeAll
    static void startServerAndAgent() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  port: 0
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                metrics:
                  port: 0
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(request ->
                request.resource().equals(ALLOWED)
                        ? new Decision.Allow(List.of("test allows"), Decision.Obligations.none())
                        : new Decision.Deny(List.of("test denies"))));
        JsonNode token = admin("POST", "/v1/join-tokens", "{\"ttl\": 600}");
        String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        admin("POST", "/v1/entries", """
                {"spiffe_id": "%s", "parent_id": "%s", "owner": "team-a", "selectors": [{"type": "unix", "value": "uid:%d"}]}"""
                .formatted(WORKLOAD, agentId, uid));
        Path agentDir = Files.createDirectories(dir.resolve("agent"));
        Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
        Path bundle = agentDir.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle),
                dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN)
                .withMetrics(new MetricsListenerSettings("127.0.0.1", 0, Optional.empty()));
        agent = AgentRuntime.start(agentConfig, Clock.systemUTC());
        Eventually.within(Duration.ofSeconds(30), () -> assertThat(agent.agent().cache().identityCount()).isPositive());
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void countersMoveByExactlyWhatTheAgentAndTheExchangesDid() throws Exception {
        Scrape serverBefore = Scrape.of(server.metricsAddress().orElseThrow());
        Scrape agentBefore = Scrape.of(agent.metricsAddress().orElseThrow());

        String subjectToken = jwtSvid(server.tokenAudience());
        SSLContext tls = Exchanges.anonymous(server);
        RawHttp.Reply allowed = Exchanges.exchange(server, tls, subjectToken, ALLOWED);
        RawHttp.Reply denied = Exchanges.exchange(server, tls, subjectToken, FORBIDDEN);
        assertThat(allowed.status()).as(allowed.body()).isEqualTo(200);
        assertThat(denied.status()).as(denied.body()).isBetween(400, 499);
        assertThat(JSON.readTree(denied.body()).path("error").asText()).isEqualTo("access_denied");

        Scrape serverAfter = Scrape.of(server.metricsAddress().orElseThrow());
        Scrape agentAfter = Scrape.of(agent.metricsAddress().orElseThrow());
        // one JWT-SVID minted through the agent, one exchange allowed, one denied by policy
        assertThat(delta(serverBefore, serverAfter, "sigil_svids_issued_total", "type", "jwt")).isEqualTo(1);
        assertThat(delta(serverBefore, serverAfter, "sigil_exchanges_total",
                "front_door", "token_exchange", "outcome", "allowed", "reason", "none")).isEqualTo(1);
        assertThat(delta(serverBefore, serverAfter, "sigil_exchanges_total",
                "front_door", "token_exchange", "outcome", "denied", "reason", "access_denied")).isEqualTo(1);
        assertThat(delta(serverBefore, serverAfter, "sigil_http_server_requests_seconds_count",
                "listener", "token", "route", "/oauth2/token")).isEqualTo(2);
        assertThat(delta(serverBefore, serverAfter, "sigil_http_server_requests_seconds_count",
                "listener", "token", "route", "/oauth2/token", "status", "200")).isEqualTo(1);
        assertThat(delta(serverBefore, serverAfter, "sigil_http_server_requests_seconds_count",
                "listener", "token", "route", "/oauth2/token", "status", Integer.toString(denied.status()))).isEqualTo(1);
        // the agent's JWT-SVID call went over the agent API, the workload's over the Workload API
        assertThat(delta(serverBefore, serverAfter, "grpc_server_processing_duration_seconds_count", "statusCode", "OK"))
                .isGreaterThanOrEqualTo(1);
        assertThat(delta(agentBefore, agentAfter, "grpc_server_processing_duration_seconds_count",
                "method", "FetchJWTSVID", "statusCode", "OK")).isEqualTo(1);

        // what the agent's start did: one join-token attestation, the workload's X.509-SVID
        assertThat(serverAfter.value("sigil_attestations_total", "attestor", "join_token", "outcome", "success")).isEqualTo(1);
        assertThat(serverAfter.value("sigil_svids_issued_total", "type", "x509")).isGreaterThanOrEqualTo(1);
        assertThat(agentAfter.value("sigil_agent_identities")).isEqualTo(1);
        assertThat(agentAfter.value("sigil_agent_svid_expiry_seconds")).isPositive();
        // gauges from the store, the datastore pool and the JVM
        assertThat(serverAfter.labelValues("sigil_leases", "state")).contains("active", "revoking", "revoked");
        assertThat(serverAfter.names()).contains("hikaricp_connections_active", "hikaricp_connections_idle",
                "hikaricp_connections_pending", "jvm_memory_used_bytes", "sigil_lease_revocations_failing");
    }

    @Test
    void labelValuesStayBoundedWhateverClientsSend() throws Exception {
        SSLContext tls = Exchanges.anonymous(server);
        Set<String> requestIds = new HashSet<>();
        for (String path : List.of("/oauth2/spiffe:example.org:evil", "/evil-" + System.nanoTime(), "/oauth2/token?x=spiffe://evil")) {
            RawHttp.Reply reply = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", path,
                    "application/x-www-form-urlencoded", "subject_token=eyJevil".getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(reply.header("X-Request-Id")).matches("[0-9a-f]{16}");
            requestIds.add(reply.header("X-Request-Id"));
        }
        assertThat(requestIds).as("a fresh id per request").hasSize(3);
        assertThat(RawHttp.tls(tls, server.bundleEndpointAddress().orElseThrow(), "GET", "/statuslists/123456").header("X-Request-Id"))
                .matches("[0-9a-f]{16}");
        assertThat(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/entries/spiffe-evil-" + System.nanoTime()).status()).isEqualTo(404);

        Scrape scrape = Scrape.of(server.metricsAddress().orElseThrow());
        assertThat(scrape.labelValues("sigil_http_server_requests_seconds_count", "route"))
                .contains("other", "/oauth2/token", "/statuslists/{index}", "/v1/entries/{id}")
                .allMatch(route -> route.equals("other") || route.startsWith("/") && !route.contains("evil") && !route.contains("123456"));
        // no label of any metric carries a SPIFFE ID, a token or anything a client wrote
        assertThat(scrape.samples()).allSatisfy(sample -> assertThat(sample.labels().values())
                .noneMatch(value -> value.contains("spiffe://") || value.contains("evil") || value.contains("eyJ")));
        assertThat(Scrape.of(agent.metricsAddress().orElseThrow()).samples()).allSatisfy(sample -> assertThat(sample.labels().values())
                .noneMatch(value -> value.contains("spiffe://")));
    }

    @Test
    void healthAnswersLiveAndReadyOnBothListeners() throws Exception {
        for (var address : List.of(server.metricsAddress().orElseThrow(), agent.metricsAddress().orElseThrow())) {
            assertThat(Scrape.get(address, "/healthz/live").statusCode()).isEqualTo(200);
            HttpResponse<String> ready = Scrape.get(address, "/healthz/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(JSON.readTree(ready.body()).path("ready").asBoolean()).isTrue();
            assertThat(Scrape.get(address, "/admin").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws Exception {
        jwtSvid("https://dashboard.example.com");
        Set<String> exported = new TreeSet<>(Scrape.of(server.metricsAddress().orElseThrow()).names());
        exported.addAll(Scrape.of(agent.metricsAddress().orElseThrow()).names());
        Files.write(Path.of("target", "exported-metrics.txt"), exported);
        JsonNode dashboard = JSON.readTree(Path.of("..", "docs", "grafana", "sigil.json").toFile());
        List<String> expressions = dashboard.findValues("expr").stream().map(JsonNode::asText).toList();
        assertThat(expressions).as("the dashboard's PromQL expressions").hasSizeGreaterThan(10);
        Set<String> queried = new TreeSet<>();
        expressions.forEach(expression -> queried.addAll(metricNames(expression)));
        assertThat(queried).as("metrics the dashboard queries").isNotEmpty();
        assertThat(exported).containsAll(queried);
    }

    /** The metric names a PromQL expression reads: identifiers left once label matchers, ranges, groupings and functions are removed. */
    static Set<String> metricNames(String expression) {
        String bare = expression.replaceAll("\\{[^}]*\\}", " ").replaceAll("\\[[^\\]]*\\]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\w+", " ").replaceAll("\"[^\"]*\"", " ");
        Set<String> names = new TreeSet<>();
        Matcher identifier = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(bare);
        while (identifier.find()) {
            String word = identifier.group();
            int next = identifier.end();
            while (next < bare.length() && bare.charAt(next) == ' ') {
                next++;
            }
            boolean function = next < bare.length() && bare.charAt(next) == '(';
            if (!function && !Set.of("and", "or", "unless", "by", "without", "bool", "offset").contains(word)
                    && !word.matches("[0-9].*|e[0-9]+")) {
                names.add(word);
            }
        }
        return names;
    }

    /** A JWT-SVID for the workload from the agent's Workload API (this JVM is the workload, by uid). */
    private static String jwtSvid(String audience) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER), "true");
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(agent.workloadApiSocket().toString()))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext().intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
        try {
            return SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience(audience).build()).getSvids(0).getSvid();
        } finally {
            channel.shutdownNow();
        }
    }

    private static double delta(Scrape before, Scrape after, String name, String... labels) {
        return after.value(name, labels) - before.value(name, labels);
    }

    private static JsonNode admin(String method, String path, String body) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(reply.body()).isBetween(200, 299);
        return JSON.readTree(reply.body());
    }
}
