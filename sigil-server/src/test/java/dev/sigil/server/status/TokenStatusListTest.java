package dev.sigil.server.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access tokens carry a status claim; the served, signed status list agrees with introspection. */
class TokenStatusListTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "spiffe://example.org/web";
    private static final String API = "https://api.example.com";

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
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
                """.formatted(dir.resolve("data")));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
        anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void revokedTokenIsMarkedOnItsSignedStatusListWithinASecond() throws Exception {
        String accessToken = exchange();
        JsonNode status = JSON.readTree(SignedJWT.parse(accessToken).getJWTClaimsSet().toString()).path("status").path("status_list");
        long idx = status.path("idx").asLong();
        String uri = status.path("uri").asText();
        assertThat(uri).startsWith("https://sigil.example.org/statuslists/");
        assertThat(bit(uri, idx)).isFalse();

        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(RawHttp.unix(server.admin().socketPath(), "POST", "/v1/tokens/revoke", "application/json",
                ("{\"jti\": \"" + jti + "\"}").getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(200);

        long deadline = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
        while (!bit(uri, idx) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(bit(uri, idx)).as("bit %d of %s after revocation", idx, uri).isTrue();
        assertThat(introspectActive(accessToken)).isFalse();
    }

    @Test
    void otherTokensStayValidAndAnUnknownListIsNotFound() throws Exception {
        String first = exchange();
        String second = exchange();
        JsonNode a = JSON.readTree(SignedJWT.parse(first).getJWTClaimsSet().toString()).path("status").path("status_list");
        JsonNode b = JSON.readTree(SignedJWT.parse(second).getJWTClaimsSet().toString()).path("status").path("status_list");
        assertThat(a.path("idx").asLong()).isNotEqualTo(b.path("idx").asLong());
        assertThat(bit(b.path("uri").asText(), b.path("idx").asLong())).isFalse();
        assertThat(introspectActive(second)).isTrue();

        RawHttp.Reply missing = RawHttp.tls(anonymous, server.bundleEndpointAddress().orElseThrow(), "GET", "/statuslists/999999");
        assertThat(missing.status()).isEqualTo(404);
        RawHttp.Reply malformed = RawHttp.tls(anonymous, server.bundleEndpointAddress().orElseThrow(), "GET", "/statuslists/x");
        assertThat(malformed.status()).isEqualTo(404);
    }

    @Test
    void accessTokensAreLeasesThatTheLeaseCommandsListAndRevoke() throws Exception {
        String accessToken = exchange();
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        RawHttp.Reply shown = RawHttp.unix(server.admin().socketPath(), "GET", "/v1/leases/" + jti);
        assertThat(shown.status()).as(shown.body()).isEqualTo(200);
        JsonNode lease = JSON.readTree(shown.body());
        assertThat(lease.path("broker").asText()).isEqualTo("token");
        assertThat(lease.path("state").asText()).isEqualTo("active");
        assertThat(lease.path("holder").asText()).isEqualTo(WEB);
        assertThat(shown.body()).doesNotContain(accessToken);

        RawHttp.Reply revoked = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/leases/revoke", "application/json",
                ("{\"id\": \"" + jti + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(introspectActive(accessToken)).isFalse();
        JsonNode status = JSON.readTree(SignedJWT.parse(accessToken).getJWTClaimsSet().toString()).path("status").path("status_list");
        long deadline = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
        while (!bit(status.path("uri").asText(), status.path("idx").asLong()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(bit(status.path("uri").asText(), status.path("idx").asLong())).isTrue();
    }

    @Test
    void revokingATokenThroughTheTokenServiceClosesItsLease() throws Exception {
        String accessToken = exchange();
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(RawHttp.unix(server.admin().socketPath(), "POST", "/v1/tokens/revoke", "application/json",
                ("{\"jti\": \"" + jti + "\"}").getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(200);

        JsonNode lease = JSON.readTree(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/leases/" + jti).body());
        assertThat(lease.path("state").asText()).isEqualTo("revoked");
    }

    @Test
    void jwtSvidsCarryAStatusClaimOnAServedList() throws Exception {
        RawHttp.Reply minted = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/svids/jwt", "application/json",
                ("{\"spiffe_id\": \"" + WEB + "\", \"audience\": [\"" + API + "\"]}").getBytes(StandardCharsets.UTF_8));
        assertThat(minted.status()).as(minted.body()).isEqualTo(200);
        String svid = JSON.readTree(minted.body()).path("token").asText();
        JsonNode status = JSON.readTree(SignedJWT.parse(svid).getJWTClaimsSet().toString()).path("status").path("status_list");
        assertThat(status.path("uri").asText()).startsWith("https://sigil.example.org/statuslists/");
        assertThat(bit(status.path("uri").asText(), status.path("idx").asLong())).isFalse();
    }

    /** Fetches the list at {@code uri} from the bundle endpoint, checks it as a relying party would, reads bit {@code idx}. */
    private static boolean bit(String uri, long idx) throws Exception {
        String path = uri.substring(uri.indexOf("/statuslists/"));
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.bundleEndpointAddress().orElseThrow(), "GET", path);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.header("content-type")).contains("application/statuslist+jwt");
        SignedJWT list = SignedJWT.parse(reply.body().trim());
        assertThat(list.getHeader().getType().getType()).isEqualTo("statuslist+jwt");
        ECKey key = (ECKey) JWKSet.parse(server.authority().bundle().jwtAuthoritiesJwks()).getKeyByKeyId(list.getHeader().getKeyID());
        assertThat(list.verify(new ECDSAVerifier(key))).isTrue();
        JsonNode claims = JSON.readTree(list.getJWTClaimsSet().toString());
        assertThat(claims.path("sub").asText()).isEqualTo(uri);
        assertThat(claims.path("ttl").asLong()).isPositive();
        assertThat(claims.path("status_list").path("bits").asInt()).isEqualTo(1);
        byte[] bits = StatusBitsTest.inflate(claims.path("status_list").path("lst").asText());
        return (bits[(int) (idx / 8)] & (1 << (idx % 8))) != 0;
    }

    private static String exchange() throws Exception {
        String subject = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        String body = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(subject) + "&audience=" + enc(API);
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static boolean introspectActive(String token) throws Exception {
        // the token's holder, who may always introspect its own token
        String caller = server.authority().mintJwtSvid(SpiffeId.parse(SignedJWT.parse(token).getJWTClaimsSet().getSubject()),
                Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + enc(token)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + caller));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("active").asBoolean();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
