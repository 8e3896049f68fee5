package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerContract;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseException;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access-token broker passes the broker contract against a real server: "works" means the token
 * verifies against the server's JWKS and its introspection over HTTPS reads active; "revoked" means
 * introspection reads inactive and its registry row reads revoked.
 */
class TokenBrokerTest extends BrokerContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/billing/report-job");
    private static final String INTROSPECTOR = "spiffe://example.org/resource-server";

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static Path databaseFile;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
        var config = dev.sigil.server.testing.TokenServerConfig.load(dir, "introspectors: [" + INTROSPECTOR + "]");
        databaseFile = ((dev.sigil.server.config.ServerConfig.Sqlite) config.datastore()).file();
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(
                        request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
        anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected Broker newBroker() {
        return server.leases().brokers().get(TokenBroker.TYPE).broker();
    }

    /** A lease under a real task of a workload of the server's trust domain (a token's task must be active to be). */
    @Override
    protected LeaseGrant lease(Duration ttl) throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return new LeaseGrant(LeaseId.random(), TokenBroker.TYPE, WORKLOAD, Optional.of(createTask()), resource(), now, now.plus(ttl),
                List.of(), Decision.Obligations.none(), parameters());
    }

    @Override
    protected String resource() {
        return "https://api.example.com";
    }

    @Override
    protected String unknownResource() {
        return "not an audience";
    }

    @Override
    protected Map<String, String> parameters() {
        return Map.of(TokenBroker.SCOPE, "read write");
    }

    @Override
    protected boolean credentialWorks(LeaseGrant lease, Granted granted) throws Exception {
        String token = granted.secret().revealToHolder().get("access_token");
        SignedJWT jwt = SignedJWT.parse(token);
        ECKey key = (ECKey) JWKSet.parse(server.authority().bundle().jwtAuthoritiesJwks()).getKeyByKeyId(jwt.getHeader().getKeyID());
        assertThat(jwt.verify(new ECDSAVerifier(key))).as("signature verifies against the jwks").isTrue();
        assertThat(jwt.getJWTClaimsSet().getStringClaim("scope")).isEqualTo("read write");
        return introspect(token).path("active").asBoolean();
    }

    @Override
    protected boolean grantedInBackend(LeaseGrant lease, Granted granted) throws Exception {
        return registryRevokedAt(lease).map(Optional::isEmpty).orElse(false);
    }

    @Override
    protected boolean revokedInBackend(LeaseGrant lease) throws Exception {
        return registryRevokedAt(lease).map(Optional::isPresent).orElse(true);
    }

    @Override
    protected Instant expiryInBackend(LeaseGrant lease, Granted granted) throws Exception {
        return SignedJWT.parse(granted.secret().revealToHolder().get("access_token")).getJWTClaimsSet().getExpirationTime().toInstant();
    }

    @Override
    protected boolean renewable() {
        return false;
    }

    @Override
    protected boolean listable() {
        return false;
    }

    @Test
    void workloadsCannotRequestAccessTokensThroughTheLeaseService() {
        assertThatThrownBy(() -> server.leases().issue(new LeaseService.IssueRequest(WORKLOAD, true, List.of(), TokenBroker.TYPE,
                resource(), Optional.empty(), Optional.empty(), Map.of())))
                .isInstanceOf(LeaseException.Invalid.class).hasMessageContaining("token exchange");
    }

    /** The token's registry row, read from the server's database file: empty when absent, else whether it reads revoked. */
    private static Optional<Optional<Long>> registryRevokedAt(LeaseGrant lease) throws Exception {
        try (java.sql.Connection connection = java.sql.DriverManager.getConnection("jdbc:sqlite:" + databaseFile);
             var query = connection.prepareStatement("SELECT revoked_at FROM issued_tokens WHERE jti = ?")) {
            query.setString(1, lease.id().value());
            try (var rows = query.executeQuery()) {
                if (!rows.next()) {
                    return Optional.empty();
                }
                long revoked = rows.getLong(1);
                return Optional.of(rows.wasNull() ? Optional.empty() : Optional.of(revoked));
            }
        }
    }

    private static JsonNode introspect(String token) throws Exception {
        String svid = server.authority().mintJwtSvid(SpiffeId.parse(INTROSPECTOR), Audience.of(server.tokenAudience()), Duration.ofMinutes(5))
                .token();
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + svid));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    private static String createTask() throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/tasks", "application/json",
                JSON.writeValueAsBytes(Map.of("owner", "team-billing", "holder", WORKLOAD.toString(), "purpose", "monthly report",
                        "allowed", List.of("read:https://api.example.com"), "ttl", 3600)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        return JSON.readTree(reply.body()).path("id").asText();
    }
}
