package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.testkit.Eventually;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sigil agent api validate jwt} (ValidateJWTSVID) through the real path: a server, a real agent
 * attested with a join token serving this test's uid on its Workload API socket, and the CLI run as
 * that workload. The agent accepts only live JWT-SVIDs: one revoked on the server (its status list
 * entry) is refused within seconds (the agent asks the server, caching an answer for 1 s), and an access
 * token — revoked, or marked as one by its header — is refused.
 */
class ValidateJwtSvidEndToEndTest {
    private static final String WORKLOAD = "spiffe://example.org/billing/report-job";
    private static final String API = "https://api.example";
    /** The agent asks the server for a token's status (TokenStatus) and keeps an answer 1 s; the rest is slack for a busy machine. */
    private static final Duration REVOCATION_BOUND = Duration.ofSeconds(10);
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;
    private SigilServer server;
    private AgentRuntime agent;
    private CliHarness cli;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
        JsonNode token;
        try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
            token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            String agentId = "spiffe://example.org/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", WORKLOAD, "parent_id", agentId,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-billing"));
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
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aJwtSvidRevokedOnTheServerIsRefusedByTheAgentWithinSeconds() throws Exception {
        String svid = fetchJwtSvid(API);
        assertThat(SignedJWT.parse(svid).getJWTClaimsSet().getClaim("status")).as("minted with a status list entry").isNotNull();
        CliHarness.Result valid = validate(svid, API);
        assertThat(valid.exitCode()).as(valid.err()).isZero();
        assertThat(valid.out()).contains("SVID is valid.").contains(WORKLOAD);

        CliHarness.Result report = cli.run("leak", "report", "--data-dir", dir.resolve("server").toString(), "--value", svid);
        assertThat(report.exitCode()).as(report.err()).isZero();
        assertThat(report.out()).contains(WORKLOAD);

        Instant revokedAt = Instant.now();
        CliHarness.Result refused = validateUntilRefused(svid, API);
        assertThat(Duration.between(revokedAt, Instant.now())).isLessThan(REVOCATION_BOUND);
        assertThat(refused.err()).contains("INVALID_ARGUMENT").contains("revoked").hasLineCount(1).doesNotContain(svid);
    }

    @Test
    void aRevokedAccessTokenIsRefusedAndSoIsOneMarkedAsAnAccessToken() throws Exception {
        String accessToken = exchange(fetchJwtSvid(server.tokenAudience()), API);
        CliHarness.Result report = cli.run("leak", "report", "--data-dir", dir.resolve("server").toString(), "--value", accessToken);
        assertThat(report.exitCode()).as(report.err()).isZero();
        assertThat(report.out()).contains(WORKLOAD);

        CliHarness.Result refused = validateUntilRefused(accessToken, API);
        assertThat(refused.err()).contains("INVALID_ARGUMENT").hasLineCount(1);

        // What the server mints once access tokens carry typ at+jwt (RFC 9068): the same claims, signed by the same key.
        String live = exchange(fetchJwtSvid(server.tokenAudience()), API);
        String claims = SignedJWT.parse(live).getPayload().toString();
        String typed = server.authority().signJwt(claims, SignedJWT.parse(live).getJWTClaimsSet().getExpirationTime().toInstant(), "at+jwt")
                .compact();
        CliHarness.Result typedRefused = validate(typed, API);
        assertThat(typedRefused.exitCode()).isNotZero();
        assertThat(typedRefused.err()).contains("at+jwt").hasLineCount(1);
    }

    /** Validates until the agent refuses, at most {@link #REVOCATION_BOUND}; returns the refusal. */
    private CliHarness.Result validateUntilRefused(String token, String audience) throws Exception {
        java.util.concurrent.atomic.AtomicReference<CliHarness.Result> result = new java.util.concurrent.atomic.AtomicReference<>();
        Eventually.within(REVOCATION_BOUND, () -> {
            result.set(validate(token, audience));
            assertThat(result.get().exitCode()).as("ValidateJWTSVID still says valid: %s", result.get().out()).isNotZero();
        });
        return result.get();
    }

    private CliHarness.Result validate(String token, String audience) {
        return cli.run("agent", "api", "validate", "jwt", "--socket", agent.workloadApiSocket().toString(),
                "--audience", audience, "--svid", token);
    }

    private String fetchJwtSvid(String audience) {
        CliHarness.Result fetched = cli.run("agent", "api", "fetch", "jwt", "--socket", agent.workloadApiSocket().toString(),
                "--audience", audience);
        assertThat(fetched.exitCode()).as(fetched.err()).isZero();
        String line = fetched.out().lines().filter(l -> l.startsWith(WORKLOAD + " ")).findFirst().orElseThrow();
        return line.substring(WORKLOAD.length() + 1).strip();
    }

    /** RFC 8693 exchange at the token endpoint over HTTPS (server authenticated by the trust bundle); the access token. */
    private String exchange(String subjectToken, String audience) throws Exception {
        String body = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(subjectToken) + "&audience=" + enc(audience);
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        List<X509Certificate> authorities = server.authority().bundle().x509Authorities();
        for (int i = 0; i < authorities.size(); i++) {
            roots.setCertificateEntry("root" + i, authorities.get(i));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        var address = server.tokenEndpointAddress().orElseThrow();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            String text = response.toString(StandardCharsets.UTF_8);
            assertThat(text).as(text).startsWith("HTTP/1.1 200");
            String json = text.substring(text.indexOf("\r\n\r\n") + 4);
            return this.json.readTree(json.substring(json.indexOf('{'))).path("access_token").asText();
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
