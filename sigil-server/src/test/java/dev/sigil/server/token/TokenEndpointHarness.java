package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.policy.PolicyEngine;
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
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A full in-process server (trust domain {@code example.org}, SQLite) with its token endpoint, and what
 * tests of the OAuth front doors do with it: JWT-SVIDs and X.509-SVIDs of its trust domain, form posts over
 * real HTTPS, introspection, admin calls over the Unix socket, and reads of its audit trail.
 */
final class TokenEndpointHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final SigilServer server;
    final ServerConfig config;
    final X509Certificate root;
    final SSLContext anonymous;

    TokenEndpointHarness(Path dir, PolicyEngine policy) throws Exception {
        config = dev.sigil.server.testing.TokenServerConfig.load(dir, "introspectors: [spiffe://example.org/resource-server]");
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(policy));
        root = server.authority().bundle().x509Authorities().get(0);
        anonymous = TestPki.clientContext(null, root);
    }

    @Override
    public void close() {
        server.close();
    }

    /** A form with {@code grant_type} token exchange unless the pairs name another. */
    static Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
        }
        return form;
    }

    String jwtSvid(String id) {
        return jwtSvid(id, server.tokenAudience());
    }

    String jwtSvid(String id, String audience) {
        return server.authority().mintJwtSvid(SpiffeId.parse(id), Audience.of(audience), Duration.ofMinutes(5)).token();
    }

    SSLContext mutualTls(String spiffeId) throws Exception {
        return TestPki.clientContext(x509Svid(spiffeId), root);
    }

    RawHttp.Reply token(SSLContext context, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return RawHttp.tls(context, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    JsonNode introspect(String token) throws Exception {
        return introspectAs("spiffe://example.org/resource-server", token);
    }

    /** Introspection authenticated by {@code caller}'s JWT-SVID: its holder, its audience or an introspector learn it is active. */
    JsonNode introspectAs(String caller, String token) throws Exception {
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + jwtSvid(caller)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    static void expectError(RawHttp.Reply reply, int status, String error, String descriptionPart) throws Exception {
        assertThat(reply.status()).as(reply.body()).isEqualTo(status);
        JsonNode body = JSON.readTree(reply.body());
        assertThat(body.path("error").asText()).as(reply.body()).isEqualTo(error);
        assertThat(body.path("error_description").asText()).as(reply.body()).contains(descriptionPart);
        assertThat(body.has("access_token")).isFalse();
    }

    RawHttp.Reply admin(String method, String path, String json) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), method, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    String createTask(String holder, String purpose, List<String> allowed) throws Exception {
        RawHttp.Reply reply = admin("POST", "/v1/tasks", JSON.writeValueAsString(Map.of("owner", "team-orders", "holder", holder,
                "purpose", purpose, "allowed", allowed, "ttl", 600)));
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        return JSON.readTree(reply.body()).path("id").asText();
    }

    TlsIdentity x509Svid(String spiffeId) throws Exception {
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

    /** One column of the status list entry of the token with {@code jti}. */
    long statusColumn(String jti, String column) throws Exception {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + databaseFile());
             var statement = connection.prepareStatement("SELECT " + column + " FROM token_status WHERE ref = ?")) {
            statement.setString(1, jti);
            try (ResultSet rows = statement.executeQuery()) {
                assertThat(rows.next()).as("status entry of " + jti).isTrue();
                return rows.getLong(1);
            }
        }
    }

    /** The audit records of {@code action}, oldest first: subject, outcome and details. */
    List<Map<String, String>> audit(String action) throws Exception {
        List<Map<String, String>> records = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + databaseFile());
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

    private Path databaseFile() {
        return ((ServerConfig.Sqlite) config.datastore()).file();
    }
}
