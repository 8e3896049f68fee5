package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token service over real HTTPS against a full in-process server. */
class TokenServiceTest {
    private static final String WEB = "spiffe://example.org/web";
    private static final String AGENT = "spiffe://example.org/ai-agent";
    private static final String API = "https://api.example.com";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PolicyEngine ALLOW_ALL = request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none());

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static ServerConfig config;
    private static final AtomicReference<PolicyEngine> POLICY = new AtomicReference<>(ALLOW_ALL);
    private static final List<PolicyRequest> SEEN = new CopyOnWriteArrayList<>();
    private static X509Certificate root;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
        config = dev.sigil.server.testing.TokenServerConfig.load(dir, "introspectors: [spiffe://example.org/resource-server]");
        PolicyEngine recording = request -> {
            SEEN.add(request);
            return POLICY.get().decide(request);
        };
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(recording));
        root = server.authority().bundle().x509Authorities().get(0);
        anonymous = TestPki.clientContext(null, root);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void reset() {
        POLICY.set(ALLOW_ALL);
        SEEN.clear();
    }

    @Test
    void jwtSvidIsExchangedForAnAccessTokenThatVerifiesAgainstTheJwks() throws Exception {
        RawHttp.Reply reply = token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "read write"));

        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.header("cache-control")).isEqualTo("no-store");
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("issued_token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:access_token");
        assertThat(body.path("token_type").asText()).isEqualTo("Bearer");
        assertThat(body.path("expires_in").asLong()).isBetween(290L, 300L);
        assertThat(body.path("scope").asText()).isEqualTo("read write");
        SignedJWT jwt = SignedJWT.parse(body.path("access_token").asText());
        JWKSet jwks = JWKSet.parse(server.authority().bundle().jwtAuthoritiesJwks());
        ECKey key = (ECKey) jwks.getKeyByKeyId(jwt.getHeader().getKeyID());
        assertThat(key).isNotNull();
        assertThat(jwt.verify(new ECDSAVerifier(key))).isTrue();
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getIssuer()).isEqualTo("https://sigil.example.org");
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getAudience()).containsExactly(API);
        assertThat(claims.getStringClaim("scope")).isEqualTo("read write");
        assertThat(claims.getJWTID()).isNotBlank();
        assertThat(claims.getClaim("cnf")).isNull();
        assertThat(claims.getExpirationTime().toInstant()).isAfter(Instant.now());
        assertThat(SEEN).singleElement().satisfies(request -> {
            assertThat(request.action()).isEqualTo("token:exchange");
            assertThat(request.resource()).isEqualTo(API);
            assertThat(request.scopes()).containsExactly("read", "write");
            assertThat(request.trustLevel()).isZero();
        });
        List<Map<String, String>> audit = audit("token.exchange");
        Map<String, String> last = audit.get(audit.size() - 1);
        assertThat(last).containsEntry("outcome", "success").containsEntry("subject", WEB);
        assertThat(last.get("details")).contains(claims.getJWTID()).contains(dev.sigil.server.audit.SecretHasher.loadOrCreate(config.dataDir().resolve("keys")).keyedHash(jwt.serialize()))
                .doesNotContain(jwt.serialize());
    }

    @Test
    void mutualTlsExchangeBindsTheTokenToTheClientCertificate() throws Exception {
        TlsIdentity identity = x509Svid(WEB);
        RawHttp.Reply reply = token(TestPki.clientContext(identity, root), form("audience", API));

        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JWTClaimsSet claims = SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet();
        String expected = Base64.getUrlEncoder().withoutPadding().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(identity.leaf().getEncoded()));
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getJSONObjectClaim("cnf")).containsEntry("x5t#S256", expected);
    }

    @Test
    void policyDenialIsAccessDeniedWithReasonsAndAudited() throws Exception {
        POLICY.set(request -> new Decision.Deny(List.of("rule 'no-prod' denies " + request.subject())));

        RawHttp.Reply reply = token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API));

        assertThat(reply.status()).isEqualTo(403);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("error").asText()).isEqualTo("access_denied");
        assertThat(body.path("error_description").asText()).contains("rule 'no-prod' denies " + WEB);
        assertThat(body.has("access_token")).isFalse();
        List<Map<String, String>> audit = audit("token.exchange");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "denied")
                .hasEntrySatisfying("details", details -> assertThat(details).contains("no-prod"));
    }

    @Test
    void policyObligationsCapTtlNarrowScopesAndRequireMutualTls() throws Exception {
        POLICY.set(request -> new Decision.Allow(List.of("capped"), new Decision.Obligations(
                Optional.of(Duration.ofSeconds(60)), Optional.of(Set.of("read")), false)));
        JsonNode capped = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "read write")).body());
        assertThat(capped.path("expires_in").asLong()).isBetween(55L, 60L);
        assertThat(capped.path("scope").asText()).isEqualTo("read");

        POLICY.set(request -> new Decision.Allow(List.of("pop"), new Decision.Obligations(Optional.empty(), Optional.empty(), true)));
        RawHttp.Reply bearer = token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API));
        assertThat(bearer.status()).isEqualTo(403);
        assertThat(bearer.body()).contains("access_denied").contains("mutual tls");
        RawHttp.Reply bound = token(TestPki.clientContext(x509Svid(WEB), root), form("audience", API));
        assertThat(bound.status()).as(bound.body()).isEqualTo(200);
    }

    @Test
    void malformedRequestsGetPreciseOAuthErrorsAndNoToken() throws Exception {
        String good = jwtSvid(WEB);
        Map<String, String> base = form("subject_token", good, "audience", API);

        Map<String, String> wrongGrant = new LinkedHashMap<>(base);
        wrongGrant.put("grant_type", "password");
        expectError(token(anonymous, wrongGrant), 400, "unsupported_grant_type", "password");
        Map<String, String> noGrant = new LinkedHashMap<>(base);
        noGrant.remove("grant_type");
        expectError(token(anonymous, noGrant), 400, "invalid_request", "grant_type");
        expectError(post(anonymous, "/oauth2/token", "application/x-www-form-urlencoded", "a=%zz&b"), 400, "invalid_request", "form");
        expectError(post(anonymous, "/oauth2/token", "application/json", "{}"), 400, "invalid_request", "content type");
        expectError(post(anonymous, "/oauth2/token", "application/x-www-form-urlencoded", "x=" + "a".repeat(20_000)),
                413, "invalid_request", "larger than");
        expectError(post(anonymous, "/oauth2/token", "application/x-www-form-urlencoded",
                "grant_type=a&grant_type=b"), 400, "invalid_request", "more than once");
        expectError(token(anonymous, form("audience", API)), 400, "invalid_request", "subject_token is required");
        expectError(token(anonymous, form("subject_token", good)), 400, "invalid_request", "audience");
        Map<String, String> wrongType = new LinkedHashMap<>(base);
        wrongType.put("subject_token_type", "urn:ietf:params:oauth:token-type:saml2");
        expectError(token(anonymous, wrongType), 400, "invalid_request", "saml2");
        expectError(token(anonymous, form("subject_token", good, "audience", API, "scope", "bad\"scope")), 400, "invalid_scope", "malformed");
        assertThat(SEEN).isEmpty();
    }

    @Test
    void forgedOrUnacceptableSubjectTokensAreRefused() throws Exception {
        String kid = server.authority().bundle().jwtAuthorities().get(0).keyId();
        Instant now = Instant.now();
        JWTClaimsSet valid = claims(WEB, server.tokenAudience(), now.plusSeconds(300));

        String none = new PlainJWT(valid).serialize();
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(kid).build(), valid);
        hs.sign(new MACSigner(new byte[32]));
        ECKey stranger = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256).keyID("unknown-kid").generate();
        SignedJWT unknownKid = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("unknown-kid").build(), valid);
        unknownKid.sign(new ECDSASigner(stranger));
        SignedJWT forgedKid = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(),
                claims("spiffe://evil.org/web", server.tokenAudience(), now.plusSeconds(300)));
        forgedKid.sign(new ECDSASigner(stranger));
        String wrongAudience = server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of("https://elsewhere"), Duration.ofMinutes(5)).token();

        expectError(token(anonymous, form("subject_token", none, "audience", API)), 400, "invalid_request", "signed jwt");
        expectError(token(anonymous, form("subject_token", hs.serialize(), "audience", API)), 400, "invalid_request", "HS256");
        expectError(token(anonymous, form("subject_token", unknownKid.serialize(), "audience", API)), 400, "invalid_request", "unknown-kid");
        expectError(token(anonymous, form("subject_token", forgedKid.serialize(), "audience", API)), 400, "invalid_request", "invalid signature");
        expectError(token(anonymous, form("subject_token", wrongAudience, "audience", API)), 400, "invalid_request", "audience");
        assertThat(SEEN).isEmpty();
    }

    @Test
    void actorCanOnlyNarrowAndAppearsAsActClaim() throws Exception {
        POLICY.set(request -> request.subject().toString().equals(AGENT)
                ? new Decision.Allow(List.of("agent may read"), new Decision.Obligations(Optional.empty(), Optional.of(Set.of("read")), false))
                : ALLOW_ALL.decide(request));

        RawHttp.Reply widening = token(anonymous, form("subject_token", jwtSvid(WEB), "actor_token", jwtSvid(AGENT),
                "actor_token_type", "urn:ietf:params:oauth:token-type:jwt", "audience", API, "scope", "read write"));
        expectError(widening, 400, "invalid_scope", "write");

        RawHttp.Reply narrow = token(anonymous, form("subject_token", jwtSvid(WEB), "actor_token", jwtSvid(AGENT),
                "actor_token_type", "urn:ietf:params:oauth:token-type:jwt", "audience", API, "scope", "read"));
        assertThat(narrow.status()).as(narrow.body()).isEqualTo(200);
        JWTClaimsSet claims = SignedJWT.parse(JSON.readTree(narrow.body()).path("access_token").asText()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getJSONObjectClaim("act")).containsEntry("sub", AGENT);
        assertThat(SEEN).anySatisfy(request -> assertThat(request.delegationChain()).containsExactly(SpiffeId.parse(AGENT)));
    }

    @Test
    void taskBoundaryIsEnforcedAndEndingTheTaskDeactivatesItsTokens() throws Exception {
        String task = createTask(WEB, List.of("read:" + API));

        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", "https://other.example.com", "task", task)),
                400, "invalid_target", "outside task");
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "write", "task", task)),
                400, "invalid_scope", "outside task");
        expectError(token(anonymous, form("subject_token", jwtSvid(AGENT), "audience", API, "task", task)),
                403, "access_denied", "held by " + WEB);
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "task", "task-nope")),
                403, "access_denied", "does not exist");

        RawHttp.Reply issued = token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "read", "task", task));
        assertThat(issued.status()).as(issued.body()).isEqualTo(200);
        String accessToken = JSON.readTree(issued.body()).path("access_token").asText();
        assertThat(SignedJWT.parse(accessToken).getJWTClaimsSet().getStringClaim("task")).isEqualTo(task);
        JsonNode active = introspect(accessToken);
        assertThat(active.path("active").asBoolean()).isTrue();
        assertThat(active.path("task").asText()).isEqualTo(task);
        assertThat(active.path("sub").asText()).isEqualTo(WEB);
        assertThat(active.path("scope").asText()).isEqualTo("read");

        RawHttp.Reply ended = admin("POST", "/v1/tasks/" + task + "/end", "{}");
        assertThat(ended.status()).as(ended.body()).isEqualTo(200);
        long start = System.nanoTime();
        assertThat(introspect(accessToken).path("active").asBoolean()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "task", task)),
                403, "access_denied", "ended");
    }

    @Test
    void revokedTokensAreInactiveTheirUseIsAuditedAndOnlyTheirHolderMayRevoke() throws Exception {
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        assertThat(introspect(accessToken).path("active").asBoolean()).isTrue();

        RawHttp.Reply unauthenticated = post(anonymous, "/oauth2/revoke", "application/x-www-form-urlencoded", "token=" + accessToken);
        expectError(unauthenticated, 401, "invalid_client", "authenticate");
        // RFC 6750 section 3: the challenge names the error and says what was wrong, in header-safe characters
        assertThat(unauthenticated.header("www-authenticate")).startsWith("Bearer realm=\"sigil\", error=\"invalid_client\", "
                + "error_description=\"").contains("authenticate").matches("[\\x20-\\x7e]+").endsWith("\"");
        RawHttp.Reply stranger = post(TestPki.clientContext(x509Svid(AGENT), root), "/oauth2/revoke",
                "application/x-www-form-urlencoded", "token=" + accessToken);
        expectError(stranger, 400, "unauthorized_client", "only its own");
        assertThat(introspect(accessToken).path("active").asBoolean()).isTrue();

        RawHttp.Reply revoked = post(TestPki.clientContext(x509Svid(WEB), root), "/oauth2/revoke",
                "application/x-www-form-urlencoded", "token=" + accessToken);
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(introspect(accessToken).path("active").asBoolean()).isFalse();
        List<Map<String, String>> uses = audit("token.introspect");
        assertThat(uses).isNotEmpty();
        assertThat(uses.get(uses.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", WEB);
        assertThat(uses.get(uses.size() - 1).get("details")).contains("revoked");
        assertThat(introspect("not-a-token").path("active").asBoolean()).isFalse();
    }

    @Test
    void adminRevokesByJti() throws Exception {
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();

        assertThat(admin("POST", "/v1/tokens/revoke", "{\"jti\": \"" + jti + "\"}").status()).isEqualTo(200);
        assertThat(admin("POST", "/v1/tokens/revoke", "{\"jti\": \"nope\"}").status()).isEqualTo(404);
        assertThat(introspect(accessToken).path("active").asBoolean()).isFalse();
    }

    @Test
    void accessTokensAreRfc9068AtJwtWithClientId() throws Exception {
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        SignedJWT jwt = SignedJWT.parse(accessToken);
        assertThat(jwt.getHeader().getType().getType()).isEqualTo("at+jwt");
        assertThat(jwt.getJWTClaimsSet().getStringClaim("client_id")).isEqualTo(WEB);
        assertThat(SignedJWT.parse(jwtSvid(WEB)).getHeader().getType().getType()).isEqualTo("JWT");
    }

    @Test
    void anAccessTokensJtiBeginsWithItsIssueTimeInMillisecondsSoTokensIssuedLaterSortAfterIt() throws Exception {
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        JWTClaimsSet claims = SignedJWT.parse(accessToken).getJWTClaimsSet();
        String jti = claims.getJWTID();
        assertThat(LeaseId.parse(jti).value()).isEqualTo(jti);
        long millis = 0;
        for (char c : jti.substring(0, LeaseId.TIME_CHARS).toCharArray()) {
            millis = millis * 32 + "234567abcdefghijklmnopqrstuvwxyz".indexOf(c);
        }
        // to the millisecond, taken just after the whole second that iat holds
        long iat = claims.getIssueTime().toInstant().toEpochMilli();
        assertThat(millis).isBetween(iat, iat + 5_000);
    }

    @Test
    void revokedAccessTokenIsNotReexchangedForAFreshOne() throws Exception {
        String accessToken = tokenEndpointAccessToken(anonymous, jwtSvid(WEB));
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(admin("POST", "/v1/tokens/revoke", "{\"jti\": \"" + jti + "\"}").status()).isEqualTo(200);

        expectError(token(anonymous, form("subject_token", accessToken, "audience", API)), 400, "invalid_request", "typ");
        assertThat(SEEN).as("the policy never sees the laundering attempt").isEmpty();
    }

    @Test
    void activeAccessTokenCannotRenewItselfByReexchange() throws Exception {
        String accessToken = tokenEndpointAccessToken(anonymous, jwtSvid(WEB));
        expectError(token(anonymous, form("subject_token", accessToken, "audience", server.tokenAudience())), 400, "invalid_request", "present the workload's jwt-svid");
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "actor_token", accessToken,
                "actor_token_type", "urn:ietf:params:oauth:token-type:jwt", "audience", API)), 400, "invalid_request", "actor_token has header typ");
    }

    @Test
    void delegatedOrCertificateBoundTokenIsNotLaunderedIntoAPlainOne() throws Exception {
        RawHttp.Reply delegated = token(anonymous, form("subject_token", jwtSvid(WEB), "actor_token", jwtSvid(AGENT),
                "actor_token_type", "urn:ietf:params:oauth:token-type:jwt", "audience", server.tokenAudience()));
        assertThat(delegated.status()).as(delegated.body()).isEqualTo(200);
        String withAct = JSON.readTree(delegated.body()).path("access_token").asText();
        assertThat(SignedJWT.parse(withAct).getJWTClaimsSet().getClaim("act")).isNotNull();
        String withCnf = tokenEndpointAccessToken(TestPki.clientContext(x509Svid(WEB), root), null);
        assertThat(SignedJWT.parse(withCnf).getJWTClaimsSet().getClaim("cnf")).isNotNull();
        SEEN.clear();

        expectError(token(anonymous, form("subject_token", withAct, "audience", API)), 400, "invalid_request", "subject_token has header typ");
        expectError(token(anonymous, form("subject_token", withCnf, "audience", API)), 400, "invalid_request", "subject_token has header typ");
        assertThat(SEEN).isEmpty();
    }

    @Test
    void revokedAccessTokenDoesNotAuthenticateAsBearer() throws Exception {
        String accessToken = tokenEndpointAccessToken(anonymous, jwtSvid(WEB));
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(admin("POST", "/v1/tokens/revoke", "{\"jti\": \"" + jti + "\"}").status()).isEqualTo(200);
        String victim = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(AGENT), "audience", API)).body())
                .path("access_token").asText();

        RawHttp.Reply introspection = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + victim).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + accessToken));
        expectError(introspection, 401, "invalid_client", "bearer token");
        assertThat(introspection.body()).doesNotContain("\"active\"");

        RawHttp.Reply credentials = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials",
                "application/json", "{\"broker\":\"postgresql\",\"role\":\"reader\"}".getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + accessToken));
        assertThat(credentials.status()).as(credentials.body()).isIn(401, 404);
        assertThat(credentials.body()).doesNotContain("\"credential\"");
    }

    @Test
    void aRuleWithoutScopesGrantsNoneOfTheScopesAskedFor() throws Exception {
        dev.sigil.server.policy.CompiledPolicy yaml = dev.sigil.server.policy.CompiledPolicy.parse("""
                rules:
                  - name: web-to-api
                    effect: allow
                    subject: {spiffe_id: %s}
                    actions: [token:exchange]
                    resources: ["*"]
                  - name: web-reads
                    effect: allow
                    subject: {spiffe_id: %s}
                    actions: [token:exchange]
                    resources: [%s]
                    obligations: {scopes: [read]}
                """.formatted(WEB, WEB, API));
        POLICY.set(yaml::decide);

        for (String asked : List.of("admin", "*", "'; DROP TABLE leases; --")) {
            expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", "https://other.example", "scope", asked)),
                    400, "invalid_scope", "may be granted");
        }
        RawHttp.Reply narrowed = token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "read admin"));
        assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
        String granted = JSON.readTree(narrowed.body()).path("scope").asText();
        assertThat(granted).isEqualTo("read");
        assertThat(SignedJWT.parse(JSON.readTree(narrowed.body()).path("access_token").asText()).getJWTClaimsSet()
                .getStringClaim("scope")).isEqualTo("read");
    }

    @Test
    void onlyTheHolderTheAudienceOrAnIntrospectorLearnsThatATokenIsActive() throws Exception {
        String audienceId = "spiffe://example.org/api";
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", audienceId)).body())
                .path("access_token").asText();

        assertThat(introspectAs(WEB, accessToken).path("active").asBoolean()).as("holder").isTrue();
        assertThat(introspectAs(audienceId, accessToken).path("active").asBoolean()).as("audience").isTrue();
        assertThat(introspect(accessToken).path("active").asBoolean()).as("configured introspector").isTrue();
        JsonNode stranger = introspectAs(AGENT, accessToken);
        assertThat(stranger.path("active").asBoolean()).as("stranger").isFalse();
        assertThat(stranger.has("sub")).isFalse();
        List<Map<String, String>> refused = audit("token.introspect");
        assertThat(refused.get(refused.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", WEB);
        assertThat(refused.get(refused.size() - 1).get("details")).contains("neither the token's holder");
    }

    @Test
    void introspectionWithABearerThatContradictsTheClientCertificateIsRefused() throws Exception {
        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        RawHttp.Reply reply = RawHttp.tls(TestPki.clientContext(x509Svid(WEB), root), server.tokenEndpointAddress().orElseThrow(), "POST",
                "/oauth2/introspect", "application/x-www-form-urlencoded", ("token=" + accessToken).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + jwtSvid("spiffe://example.org/resource-server")));
        expectError(reply, 400, "invalid_request", "differs from the bearer");
    }

    private static JsonNode introspectAs(String who, String token) throws Exception {
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + jwtSvid(who)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    @Test
    void reencodedCopiesOfAGenuineTokenAreRefusedAndALeakedCopyIsStillFound() throws Exception {
        java.math.BigInteger order = ((ECPublicKey) server.authority().bundle().jwtAuthorities().get(0).publicKey()).getParams().getOrder();
        for (int i = 0; i < 32; i++) {
            assertThat(dev.sigil.core.crypto.JwsCanonical.problem(jwtSvid(WEB), order)).as("the server signs low-s").isEmpty();
        }
        String svid = jwtSvid(WEB);
        expectError(token(anonymous, form("subject_token", highS(svid, order), "audience", API)), 400, "invalid_request", "high-s");
        expectError(token(anonymous, form("subject_token", padded(svid), "audience", API)), 400, "invalid_request", "base64url");

        String accessToken = JSON.readTree(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API)).body())
                .path("access_token").asText();
        String twin = highS(accessToken, order);
        assertThat(SignedJWT.parse(twin).verify(new ECDSAVerifier((ECPublicKey) server.authority().bundle().jwtAuthorities().get(0).publicKey())))
                .as("a lenient relying party accepts the twin").isTrue();
        assertThat(introspect(twin).path("active").asBoolean()).as("sigil does not").isFalse();

        RawHttp.Reply leak = admin("POST", "/v1/leaks", JSON.writeValueAsString(Map.of("value", padded(twin), "ban", false)));
        assertThat(leak.status()).as(leak.body()).isEqualTo(200);
        assertThat(JSON.readTree(leak.body()).path("found").asBoolean()).as(leak.body()).isTrue();
        assertThat(introspect(accessToken).path("active").asBoolean()).as("the original, found through its copy, is revoked").isFalse();
    }

    /** The same token with the ecdsa signature (r, n - s): still valid, another string. */
    private static String highS(String compact, java.math.BigInteger order) {
        int dot = compact.lastIndexOf('.');
        byte[] signature = Base64.getUrlDecoder().decode(compact.substring(dot + 1));
        int half = signature.length / 2;
        java.math.BigInteger s = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(signature, half, signature.length));
        byte[] flipped = order.subtract(s).toByteArray();
        byte[] out = java.util.Arrays.copyOf(signature, signature.length);
        java.util.Arrays.fill(out, half, signature.length, (byte) 0);
        int copy = Math.min(flipped.length, half);
        System.arraycopy(flipped, flipped.length - copy, out, signature.length - copy, copy);
        return compact.substring(0, dot + 1) + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    }

    /** The same token with base64 padding on its signature segment. */
    private static String padded(String compact) {
        int dot = compact.lastIndexOf('.');
        return compact.substring(0, dot + 1) + Base64.getUrlEncoder().encodeToString(Base64.getUrlDecoder().decode(compact.substring(dot + 1)));
    }

    @Test
    void refusalsOfAnIdentifiedCallerAreAudited() throws Exception {
        int before = audit("token.exchange").size();
        // a certificate that is neither subject nor actor
        expectError(token(TestPki.clientContext(x509Svid(AGENT), root), form("subject_token", jwtSvid(WEB), "audience", API)),
                400, "invalid_request", "neither the subject nor the actor");
        // a malformed scope and a malformed target from a verified subject
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", API, "scope", "read\\write")), 400, "invalid_scope", "malformed");
        expectError(token(anonymous, form("subject_token", jwtSvid(WEB), "audience", "a".repeat(600))), 400, "invalid_target", "at most");
        // a genuine token of the server that is not a usable jwt-svid (an access token as older servers
        // signed them, typ JWT and registered): refused, and audited under the subject it names
        String accessToken = tokenEndpointAccessToken(anonymous, jwtSvid(WEB));
        JWTClaimsSet real = SignedJWT.parse(accessToken).getJWTClaimsSet();
        long exp = Instant.now().plusSeconds(120).getEpochSecond();
        String legacy = server.authority().signJwt("{\"sub\":\"" + WEB + "\",\"aud\":\"" + server.tokenAudience() + "\",\"jti\":\""
                + real.getJWTID() + "\",\"iat\":" + Instant.now().getEpochSecond() + ",\"exp\":" + exp + "}", Instant.ofEpochSecond(exp)).compact();
        expectError(token(anonymous, form("subject_token", legacy, "audience", API)), 400, "invalid_request", "access token of this server");

        List<Map<String, String>> records = audit("token.exchange");
        List<Map<String, String>> denied = records.subList(before, records.size()).stream()
                .filter(r -> r.get("outcome").equals("denied")).toList();
        assertThat(denied).extracting(r -> r.get("subject")).containsExactly(WEB, WEB, WEB, WEB);
        assertThat(denied.get(0).get("details")).contains("neither the subject nor the actor");
        assertThat(denied.get(1).get("details")).contains("invalid_scope");
        assertThat(denied.get(2).get("details")).contains("invalid_target");
        assertThat(denied.get(3).get("details")).contains("access token of this server");
    }

    @Test
    void aRevokedJwtSvidIsRefusedAsSubjectAndItsUseAudited() throws Exception {
        RawHttp.Reply minted = admin("POST", "/v1/svids/jwt", JSON.writeValueAsString(Map.of("spiffe_id", WEB,
                "audience", List.of(server.tokenAudience()), "ttl", 300)));
        assertThat(minted.status()).as(minted.body()).isEqualTo(200);
        String svid = JSON.readTree(minted.body()).path("token").asText();
        assertThat(SignedJWT.parse(svid).getJWTClaimsSet().getClaim("status")).as("issued with a status list entry").isNotNull();
        assertThat(token(anonymous, form("subject_token", svid, "audience", API)).status()).isEqualTo(200);

        RawHttp.Reply leak = admin("POST", "/v1/leaks", JSON.writeValueAsString(Map.of("value", svid, "ban", false)));
        assertThat(JSON.readTree(leak.body()).path("found").asBoolean()).as(leak.body()).isTrue();

        int before = audit("token.exchange").size();
        expectError(token(anonymous, form("subject_token", svid, "audience", API)), 400, "invalid_request", "was revoked");
        List<Map<String, String>> after = audit("token.exchange");
        assertThat(after.subList(before, after.size())).singleElement()
                .satisfies(record -> assertThat(record).containsEntry("outcome", "denied").containsEntry("subject", WEB));
    }

    /** An access token for the token endpoint's own audience: what an attacker would try to re-exchange. */
    private static String tokenEndpointAccessToken(SSLContext context, String subjectToken) throws Exception {
        RawHttp.Reply reply = subjectToken == null
                ? token(context, form("audience", server.tokenAudience()))
                : token(context, form("subject_token", subjectToken, "audience", server.tokenAudience()));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        SEEN.clear();
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    // --- helpers ---

    private static JWTClaimsSet claims(String sub, String aud, Instant exp) {
        return new JWTClaimsSet.Builder().subject(sub).audience(aud).expirationTime(Date.from(exp)).issueTime(new Date()).build();
    }

    private static Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
            if (pairs[i].equals("subject_token")) {
                form.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
            }
        }
        return form;
    }

    private static String jwtSvid(String id) {
        return server.authority().mintJwtSvid(SpiffeId.parse(id), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
    }

    private static RawHttp.Reply token(SSLContext context, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return post(context, "/oauth2/token", "application/x-www-form-urlencoded", body);
    }

    private static RawHttp.Reply post(SSLContext context, String path, String contentType, String body) throws Exception {
        return RawHttp.tls(context, server.tokenEndpointAddress().orElseThrow(), "POST", path, contentType,
                body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private static JsonNode introspect(String token) throws Exception {
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + jwtSvid("spiffe://example.org/resource-server")));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    private static void expectError(RawHttp.Reply reply, int status, String error, String descriptionPart) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(status);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("error").asText()).as(reply.body()).isEqualTo(error);
        assertThat(body.path("error_description").asText()).as(reply.body()).contains(descriptionPart);
        assertThat(body.has("access_token")).isFalse();
    }

    private static RawHttp.Reply admin(String method, String path, String json) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), method, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    private static String createTask(String holder, List<String> allowed) throws Exception {
        RawHttp.Reply reply = admin("POST", "/v1/tasks", JSON.writeValueAsString(Map.of("owner", "team-ai", "holder", holder,
                "purpose", "summarise tickets", "allowed", allowed, "ttl", 600)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        JsonNode task = JSON.readTree(reply.body());
        assertThat(task.path("state").asText()).isEqualTo("active");
        return task.path("id").asText();
    }

    private static TlsIdentity x509Svid(String spiffeId) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=ignored"), pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
        RawHttp.Reply reply = admin("POST", "/v1/svids/x509", JSON.writeValueAsString(Map.of("spiffe_id", spiffeId,
                "csr", Pem.encode("CERTIFICATE REQUEST", csr))));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        List<X509Certificate> chain = Pem.parseCertificates(JSON.readTree(reply.body()).path("cert_chain_pem").asText(), "reply");
        return new TlsIdentity(chain, pair.getPrivate());
    }

    private static List<Map<String, String>> audit(String action) throws Exception {
        Path file = ((ServerConfig.Sqlite) config.datastore()).file();
        List<Map<String, String>> records = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
             var statement = connection.prepareStatement("SELECT subject, outcome, details FROM audit_records WHERE action = ? ORDER BY seq")) {
            statement.setString(1, action);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    records.add(Map.of("subject", rows.getString(1), "outcome", rows.getString(2), "details", rows.getString(3)));
                }
            }
        }
        return records;
    }
}
