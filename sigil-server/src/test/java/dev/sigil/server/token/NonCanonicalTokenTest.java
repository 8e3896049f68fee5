package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.math.BigInteger;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One token, one string: copies of a real token whose signature was re-encoded without the key (ECDSA
 * (r, n − s), base64url padding, unused bits) are refused wherever the server verifies, and a leak
 * report of such a copy finds and revokes the original. Against a full in-process server over its real
 * HTTPS token endpoint and admin socket.
 */
class NonCanonicalTokenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "spiffe://example.org/web";
    private static final String API = "https://api.example.com";
    private static final BigInteger P256_ORDER;

    static {
        try {
            java.security.AlgorithmParameters parameters = java.security.AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            P256_ORDER = parameters.getParameterSpec(java.security.spec.ECParameterSpec.class).getOrder();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
        var config = dev.sigil.server.testing.TokenServerConfig.load(dir);
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
    void copiesOfASubjectTokenWithAReencodedSignatureAreRefusedAndTheOriginalIsNot() throws Exception {
        String subject = jwtSvid();
        for (String copy : List.of(flippedS(subject), padded(subject), unusedBitsSet(subject))) {
            RawHttp.Reply reply = exchangeReply(copy);
            assertThat(reply.status()).as("exchange with a re-encoded copy: %s", reply.body()).isEqualTo(400);
            JsonNode error = JSON.readTree(reply.body());
            assertThat(error.path("error").asText()).isEqualTo("invalid_request");
            // padding and unused bits: "not in the canonical form"; (r, n - s): "a high-s ecdsa signature"
            assertThat(error.path("error_description").asText()).startsWith("subject_token ").hasLineCount(1);
        }
        assertThat(exchangeReply(subject).status()).as("the token as issued").isEqualTo(200);
    }

    @Test
    void aHighSCopyReadsInactiveOnIntrospectionAndIsRefusedAsBearer() throws Exception {
        String accessToken = exchange();
        assertThat(introspectActive(accessToken)).isTrue();
        assertThat(introspectActive(flippedS(accessToken))).as("(r, n - s) copy of an active token").isFalse();
        assertThat(introspectActive(padded(accessToken))).as("padded copy of an active token").isFalse();

        String bearer = flippedS(jwtSvid());
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + enc(accessToken)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + bearer));
        assertThat(reply.status()).as(reply.body()).isEqualTo(401);
        assertThat(JSON.readTree(reply.body()).path("error_description").asText()).contains("high-s");
    }

    @Test
    void aLeakReportOfAHighSCopyFindsAndRevokesTheOriginalLease() throws Exception {
        String accessToken = exchange();
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();

        JsonNode report = leak(flippedS(accessToken));

        assertThat(report.path("found").asBoolean()).as(report.toString()).isTrue();
        assertThat(report.path("leases").toString()).contains(jti);
        assertThat(report.path("holders").toString()).contains(WEB);
        assertThat(introspectActive(accessToken)).as("the original after the report").isFalse();
        JsonNode lease = JSON.readTree(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/leases/" + jti).body());
        assertThat(lease.path("state").asText()).isEqualTo("revoked");
    }

    @Test
    void aLeakReportOfAPaddedCopyFindsAndRevokesTheOriginalLease() throws Exception {
        String accessToken = exchange();
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();

        JsonNode report = leak("Bearer " + padded(accessToken));

        assertThat(report.path("found").asBoolean()).as(report.toString()).isTrue();
        assertThat(report.path("leases").toString()).contains(jti);
        assertThat(introspectActive(accessToken)).as("the original after the report").isFalse();
    }

    @Test
    void aForgedTokenNamingARealJtiRevokesNothing() throws Exception {
        String accessToken = exchange();
        String[] parts = accessToken.split("\\.");
        byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
        signature[5] ^= 1;
        String forged = parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);

        JsonNode report = leak(forged);

        assertThat(report.path("found").asBoolean()).as(report.toString()).isFalse();
        assertThat(introspectActive(accessToken)).isTrue();
    }

    /** The same token with the ECDSA signature (r, s) replaced by (r, n - s): verifies with the same key. */
    static String flippedS(String token) {
        int dot = token.lastIndexOf('.');
        byte[] signature = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        byte[] s = P256_ORDER.subtract(new BigInteger(1, Arrays.copyOfRange(signature, 32, 64))).toByteArray();
        Arrays.fill(signature, 32, 64, (byte) 0);
        int length = Math.min(s.length, 32);
        System.arraycopy(s, s.length - length, signature, 64 - length, length);
        return token.substring(0, dot + 1) + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    }

    /** The same token with its 64-byte signature base64url-padded ({@code ==}). */
    static String padded(String token) {
        return token + "==";
    }

    /** The same token with the four unused bits of the signature's last character set. */
    static String unusedBitsSet(String token) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int last = alphabet.indexOf(token.charAt(token.length() - 1));
        return token.substring(0, token.length() - 1) + alphabet.charAt(last | 0b1111);
    }

    private static String jwtSvid() {
        return server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
    }

    private static String exchange() throws Exception {
        RawHttp.Reply reply = exchangeReply(jwtSvid());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static RawHttp.Reply exchangeReply(String subjectToken) throws Exception {
        String body = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(subjectToken) + "&audience=" + enc(API);
        return RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private static JsonNode leak(String value) throws Exception {
        RawHttp.Reply reply = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/leaks", "application/json",
                JSON.writeValueAsBytes(Map.of("value", value)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    private static boolean introspectActive(String token) throws Exception {
        // the token's holder, who may always introspect its own token
        String caller = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()),
                Duration.ofMinutes(5)).token();
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
