package dev.sigil.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relying-party library against a real Sigil server: tokens come from its token endpoint over HTTPS,
 * and the verifier fetches the JWKS and status lists from its bundle endpoint (https_spiffe profile: the
 * server's X.509-SVID, checked against the trust bundle and its SPIFFE ID), as a service would.
 */
class TokenVerifierTest {
    private static final String WEB = "spiffe://example.org/web";
    private static final String API = "https://api.example.com/";
    private static final String TXN = "urn:ietf:params:oauth:token-type:txn_token";

    @TempDir
    static Path dir;
    private static SigilServer server;
    private static String issuer;
    private static TokenVerifier verifier;

    @BeforeAll
    static void start() throws Exception {
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
                """.formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test"),
                        Decision.Obligations.none())));
        issuer = "https://127.0.0.1:" + server.bundleEndpointAddress().orElseThrow().getPort();
        verifier = TokenVerifier.builder(issuer)
                .fetcher(HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), server.spiffeId().toString()))
                .build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAccessTokenVerifiesForItsAudienceAndScopeOnly() throws Exception {
        String token = exchange("audience", API, "scope", "orders.read");

        AccessToken verified = verifier.verifyAccessToken(token, API, Optional.empty(), "orders.read");
        assertThat(verified.subject()).isEqualTo(WEB);
        assertThat(verified.scopes()).containsExactly("orders.read");
        assertThat(verified.clientId()).isEqualTo(WEB);

        assertThatThrownBy(() -> verifier.verifyAccessToken(token, "https://other.example.com/", Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.WRONG_AUDIENCE));
        assertThatThrownBy(() -> verifier.verifyAccessToken(token, API, Optional.empty(), "orders.delete"))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.INSUFFICIENT_SCOPE));
    }

    @Test
    void aRevokedAccessTokenIsRefusedThroughTheStatusList() throws Exception {
        String token = exchange("audience", API);
        assertThat(verifier.verifyAccessToken(token, API, Optional.empty()).subject()).isEqualTo(WEB);

        // revoked as an operator would (sigil lease revoke): the token's jti is its lease id
        dev.sigil.server.credential.LeaseId id = dev.sigil.server.credential.LeaseId.parse(SignedJWT.parse(token).getJWTClaimsSet().getJWTID());
        assertThat(server.leases().revoke(dev.sigil.server.credential.LeaseFilter.all().withId(id), "test", "local:test").revoked()).isEqualTo(1);

        // a verifier without a cached list learns of it as soon as the server rebuilds its list (at most once a second);
        // a running one within the list's ttl (30 s)
        dev.sigil.testkit.Eventually.within(Duration.ofSeconds(10), () -> {
            TokenVerifier fresh = TokenVerifier.builder(issuer)
                    .fetcher(HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), server.spiffeId().toString())).build();
            assertThatThrownBy(() -> fresh.verifyAccessToken(token, API, Optional.empty()))
                    .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.REVOKED));
        });
    }

    @Test
    void tokenTypesAreNeverConfused() throws Exception {
        String access = exchange("audience", API);
        String txn = exchange("requested_token_type", TXN, "audience", "example.org", "scope", "orders.read");
        String jwtSvid = jwtSvid(API);

        TransactionToken transaction = verifier.verifyTransactionToken(txn, "example.org", "orders.read");
        assertThat(transaction.subject()).isEqualTo(WEB);
        assertThat(transaction.requestingWorkloads()).containsExactly(WEB);
        assertThat(transaction.txn()).isNotBlank();

        for (String wrong : List.of(txn, jwtSvid)) {
            assertThatThrownBy(() -> verifier.verifyAccessToken(wrong, API, Optional.empty()))
                    .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.WRONG_TYPE));
        }
        assertThatThrownBy(() -> verifier.verifyTransactionToken(access, "example.org"))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.WRONG_TYPE));
        assertThatThrownBy(() -> verifier.verifyTransactionToken(txn, "other.org"))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.WRONG_AUDIENCE));
    }

    @Test
    void forgedExpiredOrForeignTokensAreRefused() throws Exception {
        String token = exchange("audience", API);
        String[] parts = token.split("\\.");
        String tampered = parts[0] + "." + parts[1].substring(0, parts[1].length() - 2) + "AA." + parts[2];
        assertThatThrownBy(() -> verifier.verifyAccessToken(tampered, API, Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason())
                        .isIn(InvalidTokenException.Reason.BAD_SIGNATURE, InvalidTokenException.Reason.MALFORMED));
        assertThatThrownBy(() -> verifier.verifyAccessToken("not-a-token", API, Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.MALFORMED));

        TokenVerifier later = TokenVerifier.builder(issuer).clock(Clock.offset(Clock.systemUTC(), Duration.ofHours(2)))
                .fetcher(HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), server.spiffeId().toString())).build();
        assertThatThrownBy(() -> later.verifyAccessToken(token, API, Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.EXPIRED));

        TokenVerifier otherIssuer = TokenVerifier.builder("https://elsewhere.example").jwksUri(URI.create(issuer + "/keys"))
                .fetcher(HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), server.spiffeId().toString())).build();
        assertThatThrownBy(() -> otherIssuer.verifyAccessToken(token, API, Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.WRONG_ISSUER));
        // a fetcher that trusts another server's identity fetches nothing: the key is unknown, fail closed
        TokenVerifier wrongServer = TokenVerifier.builder(issuer)
                .fetcher(HttpsFetcher.spiffe(server.authority().bundle().x509Authorities(), "spiffe://example.org/not-the-server")).build();
        assertThatThrownBy(() -> wrongServer.verifyAccessToken(token, API, Optional.empty()))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.UNKNOWN_KEY));
    }

    // --- a workload asking the token endpoint, over HTTPS that trusts the bundle and checks the server's SPIFFE ID ---

    private static String jwtSvid(String audience) {
        return server.authority().mintJwtSvid(SpiffeId.parse(WEB), Audience.of(audience), Duration.ofMinutes(5)).token();
    }

    private static String exchange(String... pairs) throws Exception {
        StringBuilder body = new StringBuilder("grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(jwtSvid(server.tokenAudience())));
        for (int i = 0; i < pairs.length; i += 2) {
            body.append('&').append(enc(pairs[i])).append('=').append(enc(pairs[i + 1]));
        }
        URI uri = URI.create("https://127.0.0.1:" + server.tokenEndpointAddress().orElseThrow().getPort() + "/oauth2/token");
        HttpsURLConnection connection = (HttpsURLConnection) uri.toURL().openConnection();
        connection.setSSLSocketFactory(trustingBundle().getSocketFactory());
        connection.setHostnameVerifier((host, session) -> true); // the bundle alone authenticates the server in this test helper
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body.toString().getBytes(StandardCharsets.UTF_8));
        }
        int status = connection.getResponseCode();
        try (InputStream in = status == 200 ? connection.getInputStream() : connection.getErrorStream()) {
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(status).as(answer).isEqualTo(200);
            Matcher token = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(answer);
            assertThat(token.find()).isTrue();
            return token.group(1);
        }
    }

    private static SSLContext trustingBundle() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        List<X509Certificate> roots = server.authority().bundle().x509Authorities();
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root-" + i, roots.get(i));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
