package dev.sigil.server.token;

import static dev.sigil.server.token.TokenEndpointHarness.JSON;
import static dev.sigil.server.token.TokenEndpointHarness.expectError;
import static dev.sigil.server.token.TokenEndpointHarness.form;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.testing.RawHttp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
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
    private static final List<PolicyRequest> SEEN = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dir;
    private static TokenEndpointHarness h;

    @BeforeAll
    static void start() throws Exception {
        // the policy: transaction tokens only for the gateway, web and orders; access tokens for anyone
        PolicyEngine policy = request -> {
            SEEN.add(request);
            String subject = request.subject().toString();
            if (request.action().equals("token:txn") && !List.of(GATEWAY, WEB, ORDERS).contains(subject)) {
                return new Decision.Deny(List.of("no rule lets " + request.subject() + " start transactions"));
            }
            return new Decision.Allow(List.of("test allows"), Decision.Obligations.none());
        };
        h = new TokenEndpointHarness(dir, policy);
    }

    @AfterAll
    static void stop() {
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void reset() {
        SEEN.clear();
    }

    @Test
    void aWorkloadStartsATransactionWithItsJwtSvidAndGetsASignedTxnToken() throws Exception {
        RawHttp.Reply reply = h.token(h.anonymous, txnForm("subject_token", h.jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.create",
                "request_details", "{\"action\":\"BUY\",\"quantity\":\"100\"}", "request_context", "{\"req_ip\":\"192.0.2.7\"}"));

        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("issued_token_type").asText()).isEqualTo(TXN);
        assertThat(body.path("token_type").asText()).isEqualTo("N_A");
        assertThat(body.has("refresh_token")).isFalse();
        assertThat(body.path("expires_in").asLong()).isBetween(1L, 300L);
        SignedJWT jwt = SignedJWT.parse(body.path("access_token").asText());
        assertThat(jwt.getHeader().getType().getType()).isEqualTo("txntoken+jwt");
        ECKey key = (ECKey) JWKSet.parse(h.server.authority().bundle().jwtAuthoritiesJwks()).getKeyByKeyId(jwt.getHeader().getKeyID());
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
        List<Map<String, String>> audit = h.audit("token.txn");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "success").containsEntry("subject", WEB);
        assertThat(audit.get(audit.size() - 1).get("details")).contains(claims.getStringClaim("txn")).doesNotContain(jwt.serialize());
    }

    @Test
    void aGatewayTurnsAnAccessTokenIntoATxnTokenThatCanOnlyNarrowItsScope() throws Exception {
        String accessToken = accessToken(WEB, "orders.read orders.create");
        SSLContext gateway = h.mutualTls(GATEWAY);

        RawHttp.Reply reply = h.token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JWTClaimsSet claims = SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getStringClaim("req_wl")).isEqualTo(GATEWAY);
        assertThat(claims.getJSONObjectClaim("rctx")).containsEntry("authn", "x509-svid");
        assertThat(claims.getExpirationTime()).isBeforeOrEqualTo(SignedJWT.parse(accessToken).getJWTClaimsSet().getExpirationTime());

        expectError(h.token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.delete")),
                400, "invalid_scope", "beyond the subject token's scope");
        // a bearer access token alone authenticates nobody: whoever holds it cannot mint a transaction from it
        expectError(h.token(h.anonymous, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read")),
                401, "invalid_client", "authenticated requester");
        // a revoked access token gives nothing
        String jti = SignedJWT.parse(accessToken).getJWTClaimsSet().getJWTID();
        assertThat(h.admin("POST", "/v1/tokens/revoke", "{\"jti\": \"" + jti + "\"}").status()).isEqualTo(200);
        expectError(h.token(gateway, txnForm("subject_token", accessToken, "subject_token_type", ACCESS, "scope", "orders.read")),
                400, "invalid_request", "was revoked");
    }

    @Test
    void aReplacementKeepsTheTransactionAppendsTheRequesterAndNeverWidens() throws Exception {
        SSLContext gateway = h.mutualTls(GATEWAY);
        String first = txnToken(h.token(gateway, txnForm("subject_token", accessToken(WEB, "orders.read orders.create"),
                "subject_token_type", ACCESS, "scope", "orders.read orders.create", "request_details", "{\"order\":\"42\"}")));
        JWTClaimsSet original = SignedJWT.parse(first).getJWTClaimsSet();
        SSLContext orders = h.mutualTls(ORDERS);

        String replaced = txnToken(h.token(orders, txnForm("subject_token", first, "subject_token_type", TXN, "scope", "orders.read")));
        JWTClaimsSet claims = SignedJWT.parse(replaced).getJWTClaimsSet();
        assertThat(claims.getStringClaim("txn")).isEqualTo(original.getStringClaim("txn"));
        assertThat(claims.getSubject()).isEqualTo(WEB);
        assertThat(claims.getAudience()).containsExactly(TRUST_DOMAIN);
        assertThat(claims.getJSONObjectClaim("tctx")).isEqualTo(original.getJSONObjectClaim("tctx"));
        assertThat(claims.getStringListClaim("req_wl")).containsExactly(GATEWAY, ORDERS);
        assertThat(claims.getStringClaim("scope")).isEqualTo("orders.read");
        assertThat(claims.getExpirationTime()).isBeforeOrEqualTo(original.getExpirationTime());

        expectError(h.token(orders, txnForm("subject_token", replaced, "subject_token_type", TXN, "scope", "orders.create")),
                400, "invalid_scope", "only narrow");
        // a workload policy does not let start or replace transactions is refused, and the refusal audited
        SSLContext stranger = h.mutualTls("spiffe://example.org/batch");
        expectError(h.token(stranger, txnForm("subject_token", first, "subject_token_type", TXN, "scope", "orders.read")),
                403, "access_denied", "no rule lets");
        List<Map<String, String>> audit = h.audit("token.txn");
        assertThat(audit.get(audit.size() - 1)).containsEntry("outcome", "denied").containsEntry("subject", "spiffe://example.org/batch");
    }

    @Test
    void aTxnTokenIsNeitherAnAccessTokenNorAJwtSvid() throws Exception {
        String txn = txnToken(h.token(h.anonymous, txnForm("subject_token", h.jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.read")));

        expectError(h.token(h.anonymous, form("subject_token", txn, "subject_token_type", JWT, "audience", "https://api.example.com")),
                400, "invalid_request", "transaction token");
        expectError(h.token(h.mutualTls(GATEWAY), txnForm("subject_token", txn, "subject_token_type", ACCESS,
                "scope", "orders.read")), 400, "invalid_request", "not an access token");
        assertThat(h.introspect(txn).path("active").asBoolean()).isFalse();
    }

    @Test
    void endingTheTaskRevokesItsTxnTokensOnTheStatusList() throws Exception {
        String task = h.createTask(WEB, "reconcile orders", List.of("orders.read:" + TRUST_DOMAIN));
        RawHttp.Reply outside = h.token(h.anonymous, txnForm("subject_token", h.jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.create",
                "task", task));
        expectError(outside, 400, "invalid_scope", "outside task");

        String txn = txnToken(h.token(h.anonymous, txnForm("subject_token", h.jwtSvid(WEB), "subject_token_type", JWT, "scope", "orders.read",
                "task", task)));
        JWTClaimsSet claims = SignedJWT.parse(txn).getJWTClaimsSet();
        @SuppressWarnings("unchecked")
        Map<String, Object> taskClaim = (Map<String, Object>) claims.getJSONObjectClaim("tctx").get("task");
        assertThat(taskClaim).containsEntry("id", task).containsEntry("purpose", "reconcile orders");
        @SuppressWarnings("unchecked")
        Map<String, Object> list = (Map<String, Object>) claims.getJSONObjectClaim("status").get("status_list");
        long idx = ((Number) list.get("idx")).longValue();
        assertThat(h.statusColumn(claims.getJWTID(), "status")).isEqualTo(0);

        assertThat(h.admin("POST", "/v1/tasks/" + task + "/end", "{}").status()).isEqualTo(200);

        // the status list entry the token names reads invalid at once (the list relying parties fetch is built from it)
        assertThat(h.statusColumn(claims.getJWTID(), "status")).isEqualTo(1);
        assertThat(h.statusColumn(claims.getJWTID(), "idx")).isEqualTo(idx);
        expectError(h.token(h.mutualTls(ORDERS), txnForm("subject_token", txn, "subject_token_type", TXN,
                "scope", "orders.read")), 400, "invalid_request", "was revoked");
    }

    @Test
    void malformedTxnTokenRequestsGetPreciseErrorsAndNoToken() throws Exception {
        String svid = h.jwtSvid(WEB);
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT)), 400, "invalid_request", "scope is required");
        expectError(h.token(h.anonymous, form("requested_token_type", TXN, "audience", "other.org", "subject_token", svid, "subject_token_type", JWT,
                "scope", "a")), 400, "invalid_target", "must be this trust domain, example.org");
        expectError(h.token(h.anonymous, form("requested_token_type", TXN, "resource", "https://api.example.com", "subject_token", svid,
                "subject_token_type", JWT, "scope", "a")), 400, "invalid_target", "not a resource");
        expectError(h.token(h.anonymous, txnForm("scope", "a")), 400, "invalid_request", "subject_token is required");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token",
                "scope", "a")), 400, "invalid_request", "is not supported for a txn_token");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a", "request_details", "[1]")),
                400, "invalid_request", "request_details must be a json object");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a", "request_details", "{\"a\":")),
                400, "invalid_request", "request_details is not json");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"task\":\"forged\"}")), 400, "invalid_request", "must not set 'task'");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_context", "{\"authn\":\"face\"}")), 400, "invalid_request", "must not set 'authn'");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"x\":\"" + "y".repeat(3000) + "\"}")), 400, "invalid_request", "at most 2048");
        expectError(h.token(h.anonymous, txnForm("subject_token", svid, "subject_token_type", JWT, "scope", "a",
                "request_details", "{\"a\":".repeat(20) + "1" + "}".repeat(20))), 400, "invalid_request", "request_details is not json");
    }

    private static String txnToken(RawHttp.Reply reply) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static String accessToken(String subject, String scope) throws Exception {
        RawHttp.Reply reply = h.token(h.anonymous, form("subject_token", h.jwtSvid(subject), "subject_token_type", JWT,
                "audience", "https://api.example.com", "scope", scope));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body()).path("access_token").asText();
    }

    private static Map<String, String> txnForm(String... pairs) {
        List<String> all = new ArrayList<>(List.of("requested_token_type", TXN, "audience", TRUST_DOMAIN));
        all.addAll(List.of(pairs));
        return form(all.toArray(String[]::new));
    }
}
