package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ServerConfig;
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
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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

/** Transaction tokens (requested_token_type txn_token) over the real token endpoint of a full in-process server. */
class TransactionTokenTest {
    private static final String TXN = "urn:ietf:params:oauth:token-type:txn_token";
    private static final String JWT = "urn:ietf:params:oauth:token-type:jwt";
    private static final String ACCESS = "urn:ietf:params:oauth:token-type:access_token";
    private static final String WEB = "spiffe://example.org/web";
    private static final String GATEWAY = "spiffe://example.org/gateway";
    private static final String ORDERS = "spiffe://example.org/orders";
    private static final String TRUST_DOMAIN = "example.org";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<PolicyRequest> SEEN = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static ServerConfig config;
    private static X509Certificate root;
    private static SSLContext anonymous;

    @BeforeAll
    static void start() throws Exception {
        config = dev.sigil.server.testing.TokenServerConfig.load(dir, "introspectors: [spiffe://example.org/resource-server]");
        // the policy: transaction tokens only for the gateway and web, with the scopes they name; access tokens for anyone
        PolicyEngine policy = request -> {
            SEEN.add(request);
            String subject = request.subject().toString();
            if (request.action().equals("token:txn") && !List.of(GATEWAY, WEB, ORDERS).contains(subject)) {
                return new Decision.Deny(List.of("no rule lets " + request.subject() + " start transactions"));
            }
            return new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        };
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(policy));
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
        SEEN.clear();
    }

    @Test
    void aWorkloadStartsATransactionWithItsJwtSvidAndGetsASignedTxnToken() throws Exception {
        RawHttp.Reply reply = token(anonymous, txnForm("subject_token", jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.create",
                "request_details", "{\"action\":\"BUY\",\"quantity\":\"100\"}", "request_context", "{\"req_ip\":\"192.0.2.7\"}"));

        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("issued_token_type").asText()).isEqualTo(TXN);
        assertThat(body.path("token_type").asText()).isEqualTo("N_A");
        assertThat(body.has("refresh_token")).isFalse();
        assertThat(body.path("expires_in").asLong()).isBetween(1L, 300L);
        SignedJWT jwt = SignedJWT.parse(body.path("access_token").asText());
        assertThat(jwt.getHeader().getType().getType()).isEqualTo("txntoken+jwt");
        ECKey key = (ECKey) JWKSet.parse(server.authority().bundle().jwtAuthoritiesJwks()).getKeyByKeyId(jwt.getHeader().getKeyID());
        assertThat(jwt.verify(new ECDSAVerifier(key))).isTrue();
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getAudience()).containsExactly(TRUST_DOMAIN);
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getStringClaim("txn")).matches("[0-9a-f-]{36}");
        assertThat(claims.getStringClaim("scope")).isEqualTo("orders.create");
        assertThat(claims.getStringClaim("req_wl")).isEqualTo(WEB);
        assertThat(claims.getJSONObjectClaim("tctx")).containsEntry("action", "BUY").containsEntry("quantity", "100");
        assertThat(claims.getJSONObjectClaim("rctx")).containsEntry("req_ip", "192.0.2.7").containsEntry("authn", "jwt-svid")
                .containsEntry("req_wl_trust_domain", TRUST_DOMAIN);
        assertThat(claims.getClaim("status")).isNotNull();
        assertThat(SEEN).singleElement().satisfies(request -> {
            assertThat(request.action()).isEqualTo("token:txn");
            assertThat(request.resource()).isEqualTo(TRUST_DOMAIN);
            assertThat(request.subject().toString()).isEqualTo(WEB);
            assertThat(request.scopes()).containsExactly("orders.create");
        });
        List<Map<String, String>> audit = audit("token.txn");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "success").containsEntry("subject", WEB);
        assertThat(audit.get(audit.size() - 1).get("details")).contains(claims.getStringClaim("txn")).doesNotContain(jwt.serialize());
    }

    @Test
    void aGatewayTurnsAnAccessTokenIntoATxnTokenThatCanOnlyNarrowItsScope() throws Exception {
        String accessToken = accessToken(WEB, "orders.read orders.create");
        SSLContext gateway = TestPki.clientContext(x509Svid(GATEWAY), root);

        RawHttp.Reply reply = token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JWTClaimsSet claims = SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getStringClaim("req_wl")).isEqualTo(GATEWAY);
        assertThat(claims.getJSONObjectClaim("rctx")).containsEntry("authn", "x509-svid");
        assertThat(claims.getExpirationTime()).isBeforeOrEqualTo(SignedJWT.parse(accessToken).getJWTClaimsSet().getExpirationTime());

        expectError(token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.delete")),
                400, "invalid_scope", "beyond the subject token's scope");
        // a bearer access token alone authenticates nobody: whoever holds it cannot mint a transaction from it
        expectError(token(anonymous, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read")),
                401, "invalid_client", "authenticated requester");
        // a revoked access token gives nothing
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(admin("POST", "/v1/tokens/revoke", "{\"jti\": \"" + jti + "\"}").status()).isEqualTo(200);
        expectError(token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read")),
                400, "invalid_request", "was revoked");
    }

    @Test
    void aReplacementKeepsTheTransactionAppendsTheRequesterAndNeverWidens() throws Exception {
        SSLContext gateway = TestPki.clientContext(x509Svid(GATEWAY), root);
        String first = txnToken(token(gateway, txnForm("subject_token", accessToken(WEB, "orders.read orders.create"),
                "subject_token_type", ACCESS, "scope", "orders.read orders.create", "request_details", "{\"order\":\"42\"}")));
        JWTClaimsSet original = SignedJWT.parse(first).getJWTClaimsSet();
        SSLContext orders = TestPki.clientContext(x509Svid(ORDERS), root);

        String replaced = txnToken(token(orders, txnForm("subject_token", first, "subject_token_type", TXN, "scope", "orders.read")));
        JWTClaimsSet claims = SignedJWT.parse(replaced).getJWTClaimsSet();
        assertThat(claims.getStringClaim("txn")).isEqualTo(original.getStringClaim("txn"));
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getAudience()).containsExactly(TRUST_DOMAIN);
        assertThat(claims.getJSONObjectClaim("tctx")).isEqualTo(original.getJSONObjectClaim("tctx"));
        assertThat(claims.getStringListClaim("req_wl")).containsExactly(GATEWAY, ORDERS);
        assertThat(claims.getStringClaim("scope")).isEqualTo("orders.read");
        assertThat(claims.getExpirationTime()).isBeforeOrEqualTo(original.getExpirationTime());

        expectError(token(orders, txnForm("subject_token", replaced, "subject_token_type", TXN, "scope", "orders.create")),
                400, "invalid_scope", "only narrow");
        // a workload policy does not let start or replace transactions is refused, and the refusal audited
        SSLContext stranger = TestPki.clientContext(x509Svid("spiffe://example.org/batch"), root);
        expectError(token(stranger, txnForm("subject_token", first, "subject_token_type", TXN, "scope", "orders.read")),
                403, "access_denied", "no rule lets");
        List<Map<String, String>> audit = audit("token.txn");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", "spiffe://example.org/batch");
    }

    @Test
    void aTxnTokenIsNeitherAnAccessTokenNorAJwtSvid() throws Exception {
        String txn = txnToken(token(anonymous, txnForm("subject_token", jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.read")));

        expectError(token(anonymous, form("subject_token", txn, "subject_token_type", JWT, "audience", "https://api.example.com")),
                400, "invalid_request", "transaction token");
        expectError(token(TestPki.clientContext(x509Svid(GATEWAY), root), txnForm("subject_token", txn, "subject_token_type", ACCESS,
                "scope", "orders.read")), 400, "invalid_request", "not an access token");
        assertThat(introspect(txn).path("active").asBoolean()).isFalse();
    }

    @Test
    void endingTheTaskRevokesItsTxnTokensOnTheStatusList() throws Exception {
        String task = createTask(WEB, List.of("orders.read:" + TRUST_DOMAIN));
        RawHttp.Reply outside = token(anonymous, txnForm("subject_token", jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.create",
                "task", task));
        expectError(outside, 400, "invalid_scope", "outside task");

        String txn = txnToken(token(anonymous, txnForm("subject_token", jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.read",
                "task", task)));
        JWTClaimsSet claims = SignedJWT.parse(txn).getJWTClaimsSet();
        @SuppressWarnings("unchecked")
        Map<String, Object> taskClaim = (Map<String, Object>) claims.getJSONObjectClaim("tctx").get("task");
        assertThat(taskClaim).containsEntry("id", task).containsEntry("purpose", "reconcile orders");
        @SuppressWarnings("unchecked")
        Map<String, Object> list = (Map<String, Object>) claims.getJSONObjectClaim("status").get("status_list");
        long idx = ((Number) list.get("idx")).longValue();
        assertThat(statusBit(claims.getJWTID())).isEqualTo(0);

        assertThat(admin("POST", "/v1/tasks/" + task + "/end", "{}").status()).isEqualTo(200);

        // the status list entry the token names reads invalid at once (the list relying parties fetch is built from it)
        assertThat(statusBit(claims.getJWTID())).isEqualTo(1);
        assertThat(statusIndex(claims.getJWTID())).isEqualTo(idx);
        expectError(token(TestPki.clientContext(x509Svid(ORDERS), root), txnForm("subject_token", txn, "subject_token_type", TXN,
                "scope", "orders.read")), 400, "invalid_request", "was revoked");
    }

    @Test
    void malformedTxnTokenRequestsGetPreciseErrorsAndNoToken() throws Exception {
        String svid = jwtSvid(WEB);
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT)), 400, "invalid_request", "scope is required");
        expectError(token(anonymous, form("requested_token_type", TXN, "audience", "other.org", "subject_token", svid, "subject_token_type", JWT,
                "scope", "a")), 400, "invalid_target", "must be this trust domain, example.org");
        expectError(token(anonymous, form("requested_token_type", TXN, "resource", "https://api.example.com", "subject_token", svid,
                "subject_token_type", JWT, "scope", "a")), 400, "invalid_target", "not a resource");
        expectError(token(anonymous, txnForm("scope", "a")), 400, "invalid_request", "subject_token is required");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token",
                "scope", "a")), 400, "invalid_request", "is not supported for a txn_token");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a", "request_details", "[1]")),
                400, "invalid_request", "request_details must be a json object");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a", "request_details", "{\"a\":")),
                400, "invalid_request", "request_details is not json");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"task\":\"forged\"}")), 400, "invalid_request", "must not set 'task'");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_context", "{\"authn\":\"face\"}")), 400, "invalid_request", "must not set 'authn'");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"x\":\"" + "y".repeat(3000) + "\"}")), 400, "invalid_request", "at most 2048");
        expectError(token(anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"a\":".repeat(20) + "1" + "}".repeat(20))), 400, "invalid_request", "request_details is not json");
    }

    // --- helpers ---

    private static String txnToken(RawHttp.Reply reply) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static String accessToken(String subject, String scope) throws Exception {
        RawHttp.Reply reply = token(anonymous, form("subject_token", jwtSvid(subject), "subject_token_type", JWT,
                "audience", "https://api.example.com", "scope", scope));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static Map<String, String> txnForm(String... pairs) {
        List<String> all = new ArrayList<>(List.of("requested_token_type", TXN, "audience", TRUST_DOMAIN));
        all.addAll(List.of(pairs));
        return form(all.toArray(String[]::new));
    }

    private static Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
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
        return RawHttp.tls(context, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
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
        RawHttp.Reply reply = admin("POST", "/v1/tasks", JSON.writeValueAsString(Map.of("owner", "team-orders", "holder", holder,
                "purpose", "reconcile orders", "allowed", allowed, "ttl", 600)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        return JSON.readTree(reply.body()).path("id").asText();
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

    private static int statusBit(String jti) throws Exception {
        return (int) statusColumn(jti, "status");
    }

    private static long statusIndex(String jti) throws Exception {
        return statusColumn(jti, "idx");
    }

    private static long statusColumn(String jti, String column) throws Exception {
        Path file = ((ServerConfig.Sqlite) config.datastore()).file();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
             var statement = connection.prepareStatement("SELECT " + column + " FROM token_status WHERE ref = ?")) {
            statement.setString(1, jti);
            try (ResultSet rows = statement.executeQuery()) {
                assertThat(rows.next()).as("status entry of " + jti).isTrue();
                return rows.getLong(1);
            }
        }
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
