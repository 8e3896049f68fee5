package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forged-JWT list of the adversarial suite, played against the real token endpoint over HTTPS: every
 * forgery is offered as subject token, as actor token and as bearer credential to introspection, and each
 * is refused without a token, without a policy decision and without the server fetching any key the token
 * points at ({@code jku}, {@code x5u}) or trusting any key it carries ({@code jwk}, {@code x5c}).
 */
class ForgedJwtTest {
    private static final String WEB = "spiffe://example.org/web";
    private static final String API = "https://api.example.com";
    /** RFC 8693 section 3: the type of a JWT-SVID offered as subject or actor token. */
    private static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static SSLContext anonymous;
    private static HttpServer attackerKeys;
    private static final AtomicInteger KEY_FETCHES = new AtomicInteger();
    private static final AtomicInteger DECISIONS = new AtomicInteger();
    private static ECKey attacker;

    @BeforeAll
    static void start() throws Exception {
        ServerConfig config = dev.sigil.server.testing.TokenServerConfig.load(dir);
        PolicyEngine counting = request -> {
            DECISIONS.incrementAndGet();
            return new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        };
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(counting));
        anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));

        attacker = new ECKeyGenerator(Curve.P_256).keyID("attacker").generate();
        attackerKeys = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        attackerKeys.createContext("/", exchange -> {
            KEY_FETCHES.incrementAndGet();
            byte[] body = new JWKSet(attacker.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        attackerKeys.start();
    }

    @AfterAll
    static void stop() {
        if (attackerKeys != null) {
            attackerKeys.stop(0);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void genuineJwtSvidIsExchangedSoTheRefusalsBelowAreTheForgeries() throws Exception {
        String genuine = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        RawHttp.Reply reply = exchange(genuine);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(JSON.readTree(reply.body()).path("access_token").asText()).isNotEmpty();
    }

    @Test
    void forgedJwtsAreRefusedAsSubjectActorAndBearer() throws Exception {
        Map<String, String> forgeries = forgeries();
        int decisionsBefore = DECISIONS.get();
        for (Map.Entry<String, String> forgery : forgeries.entrySet()) {
            RawHttp.Reply subject = exchange(forgery.getValue());
            assertRefused(forgery.getKey() + " as subject_token", subject, 400);

            String genuine = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
            RawHttp.Reply actor = post("/oauth2/token", form("subject_token", genuine, "subject_token_type", JWT_TYPE,
                    "actor_token", forgery.getValue(), "actor_token_type", JWT_TYPE, "audience", API), Map.of());
            assertRefused(forgery.getKey() + " as actor_token", actor, 400);

            RawHttp.Reply bearer = post("/oauth2/introspect", form("token", genuine),
                    Map.of("Authorization", "Bearer " + forgery.getValue()));
            assertThat(bearer.status()).as(forgery.getKey() + " as bearer: " + bearer.body()).isIn(400, 401);
            assertThat(bearer.body()).as(forgery.getKey() + " as bearer").doesNotContain("\"active\"");
        }
        assertThat(DECISIONS.get()).as("no forgery reaches the policy").isEqualTo(decisionsBefore);
        assertThat(KEY_FETCHES.get()).as("no key is fetched from a url the token names").isZero();
    }

    @Test
    void newlineInKidDoesNotForgeALineOfTheRefusal() throws Exception {
        JWTClaimsSet claims = claims(WEB);
        SignedJWT token = new SignedJWT(header(JWSAlgorithm.ES256).keyID("x\n2026-12-05 INFO token issued to spiffe://example.org/admin").build(), claims);
        token.sign(new ECDSASigner(attacker));
        RawHttp.Reply reply = exchange(token.serialize());
        assertRefused("newline kid", reply, 400);
        String description = JSON.readTree(reply.body()).path("error_description").asText();
        assertThat(description).doesNotContain("\n").doesNotContain("\r");
        assertThat(description.length()).isLessThanOrEqualTo(1024);
    }

    /** Each forgery by name; every one carries claims that would be accepted if its signature were. */
    private static Map<String, String> forgeries() throws Exception {
        Map<String, String> forgeries = new LinkedHashMap<>();
        String kid = server.authority().bundle().jwtAuthorities().get(0).keyId();
        PublicKey serverKey = server.authority().bundle().jwtAuthorities().get(0).publicKey();
        JWTClaimsSet claims = claims(WEB);

        forgeries.put("alg none", new PlainJWT(claims).serialize());
        forgeries.put("alg None with a kid", Base64URL.encode("{\"alg\":\"None\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}")
                + "." + Base64URL.encode(claims.toString()) + ".");

        // HMAC keyed with the public key, as a verifier that takes "the key" for any alg would check it
        byte[] spki = serverKey.getEncoded();
        byte[] pem = ("-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(spki) + "\n-----END PUBLIC KEY-----\n").getBytes(StandardCharsets.US_ASCII);
        for (JWSAlgorithm hmac : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512)) {
            forgeries.put(hmac + " keyed with the public key (der)", hmacSigned(hmac, kid, spki, claims));
            forgeries.put(hmac + " keyed with the public key (pem)", hmacSigned(hmac, kid, pad(pem), claims));
        }

        String jwks = "http://127.0.0.1:" + attackerKeys.getAddress().getPort() + "/jwks.json";
        forgeries.put("jku to the attacker's keys", attackerSigned(header(JWSAlgorithm.ES256).keyID("attacker").jwkURL(URI.create(jwks)), claims));
        forgeries.put("jku with the server's kid", attackerSigned(header(JWSAlgorithm.ES256).keyID(kid).jwkURL(URI.create(jwks)), claims));
        forgeries.put("x5u to the attacker", attackerSigned(header(JWSAlgorithm.ES256).keyID("attacker").x509CertURL(URI.create(jwks)), claims));
        forgeries.put("embedded jwk", attackerSigned(header(JWSAlgorithm.ES256).jwk(attacker.toPublicJWK()), claims));
        forgeries.put("embedded jwk with the server's kid", attackerSigned(header(JWSAlgorithm.ES256).keyID(kid).jwk(attacker.toPublicJWK()), claims));
        // a certificate for the victim's spiffe id from the attacker's own ca, carried in the token
        TlsIdentity impostor = TestPki.create("example.org", Instant.now()).issue(WEB);
        List<Base64> x5c = new java.util.ArrayList<>();
        for (java.security.cert.X509Certificate certificate : impostor.chain()) {
            x5c.add(Base64.encode(certificate.getEncoded()));
        }
        SignedJWT withChain = new SignedJWT(header(JWSAlgorithm.ES256).keyID(kid).x509CertChain(x5c).build(), claims);
        withChain.sign(new ECDSASigner((java.security.interfaces.ECPrivateKey) impostor.privateKey()));
        forgeries.put("x5c chain from the attacker's ca", withChain.serialize());
        forgeries.put("unknown kid", attackerSigned(header(JWSAlgorithm.ES256).keyID("attacker"), claims));
        forgeries.put("server's kid, attacker's key", attackerSigned(header(JWSAlgorithm.ES256).keyID(kid), claims));
        forgeries.put("kid path traversal", attackerSigned(header(JWSAlgorithm.ES256).keyID("../../../../dev/null"), claims));
        forgeries.put("kid sql injection", attackerSigned(header(JWSAlgorithm.ES256).keyID("' OR '1'='1"), claims));

        String genuine = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        String[] parts = genuine.split("\\.");
        forgeries.put("signature stripped", parts[0] + "." + parts[1] + ".");
        forgeries.put("claims swapped under a genuine signature",
                parts[0] + "." + Base64URL.encode(claims("spiffe://example.org/admin").toString()) + "." + parts[2]);
        forgeries.put("header swapped to alg none under a genuine signature",
                Base64URL.encode("{\"alg\":\"none\",\"kid\":\"" + kid + "\"}") + "." + parts[1] + "." + parts[2]);
        return forgeries;
    }

    private static JWSHeader.Builder header(JWSAlgorithm alg) {
        return new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
    }

    private static String attackerSigned(JWSHeader.Builder header, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(header.build(), claims);
        jwt.sign(new ECDSASigner(attacker));
        return jwt.serialize();
    }

    private static String hmacSigned(JWSAlgorithm alg, String kid, byte[] secret, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(header(alg).keyID(kid).build(), claims);
        jwt.sign(new MACSigner(pad(secret)));
        return jwt.serialize();
    }

    /** An HMAC secret of at least 512 bits (Nimbus refuses shorter ones for HS512); the attack is the same. */
    private static byte[] pad(byte[] key) {
        return key.length >= 64 ? key : java.util.Arrays.copyOf(key, 64);
    }

    private static JWTClaimsSet claims(String sub) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().subject(sub).audience(server.tokenAudience())
                .expirationTime(Date.from(now.plusSeconds(300))).issueTime(Date.from(now)).build();
    }

    private static void assertRefused(String what, RawHttp.Reply reply, int status) throws Exception {
        assertThat(reply.status()).as(what + ": " + reply.body()).isEqualTo(status);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("error").asText()).as(what).isEqualTo("invalid_request");
        assertThat(body.has("access_token")).as(what).isFalse();
    }

    private static RawHttp.Reply exchange(String subjectToken) throws Exception {
        return post("/oauth2/token", form("subject_token", subjectToken, "subject_token_type", JWT_TYPE, "audience", API), Map.of());
    }

    private static Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        if (pairs[0].equals("subject_token")) {
            form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        }
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
        }
        return form;
    }

    private static RawHttp.Reply post(String path, Map<String, String> form, Map<String, String> headers) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", path, "application/x-www-form-urlencoded",
                body.getBytes(StandardCharsets.UTF_8), headers);
    }

}
