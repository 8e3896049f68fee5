package dev.sigil.server.testing;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.tls.TlsIdentity;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * OIDC issuers served by the test over real HTTPS on 127.0.0.1: each issuer (a path under one server,
 * {@code https://127.0.0.1:<port>/<name>}) publishes its discovery document and its JWKS, signs tokens
 * with its current key, and can rotate to a new key (the old one is dropped from the JWKS). The server
 * certificate is issued by a throwaway CA written to {@link #caBundle()}.
 */
public final class TestOidcIssuer implements AutoCloseable {
    private final HttpsServer server;
    private final Path caBundle;
    private final Map<String, List<JWK>> keys = new ConcurrentHashMap<>();
    private final AtomicInteger jwksFetches = new AtomicInteger();
    private final Map<String, String> overrides = new ConcurrentHashMap<>();

    private TestOidcIssuer(HttpsServer server, Path caBundle) {
        this.server = server;
        this.caBundle = caBundle;
    }

    /** Starts the HTTPS server; its CA certificate goes to {@code dir/issuer-ca.pem}. */
    public static TestOidcIssuer start(Path dir) throws Exception {
        TestPki pki = TestPki.create("issuer.test", Instant.now());
        TlsIdentity identity = pki.issue("spiffe://issuer.test/oidc", Duration.ofHours(2));
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(TestPki.clientContext(identity, pki.caCertificate())));
        Path caBundle = dir.resolve("issuer-ca.pem");
        Files.writeString(caBundle, Pem.encodeCertificates(List.of(pki.caCertificate())));
        TestOidcIssuer issuer = new TestOidcIssuer(server, caBundle);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String body = issuer.overrides.get(path);
            for (String name : body != null ? java.util.Set.<String>of() : issuer.keys.keySet()) {
                if (path.equals("/" + name + "/.well-known/openid-configuration")) {
                    body = "{\"issuer\":\"" + issuer.url(name) + "\",\"jwks_uri\":\"" + issuer.url(name) + "/jwks\"}";
                } else if (path.equals("/" + name + "/jwks")) {
                    issuer.jwksFetches.incrementAndGet();
                    body = new JWKSet(issuer.keys.get(name)).toPublicJWKSet().toString();
                }
            }
            byte[] bytes = (body == null ? "{}" : body).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(body == null ? 404 : 200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return issuer;
    }

    /** Adds an issuer signing with a fresh RSA key ({@code kid} "<name>-1"); returns its URL. */
    public String add(String name) throws Exception {
        keys.put(name, List.of(new RSAKeyGenerator(2048).keyID(name + "-1").generate()));
        return url(name);
    }

    public String url(String name) {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
    }

    /** Serves {@code body} at {@code path} (for example a discovery document that lies) instead of the issuer's own. */
    public void override(String path, String body) {
        overrides.put(path, body);
    }

    public Path caBundle() {
        return caBundle;
    }

    /** How many times any JWKS was fetched. */
    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** The key {@code name} signs with now. */
    public JWK currentKey(String name) {
        List<JWK> current = keys.get(name);
        return current.get(current.size() - 1);
    }

    /** Rotates issuer {@code name} to a new EC P-256 key; the JWKS then holds only the new key. Returns the old key. */
    public JWK rotate(String name) throws Exception {
        JWK old = currentKey(name);
        keys.put(name, List.of(new ECKeyGenerator(Curve.P_256).keyID(name + "-" + UUID.randomUUID()).generate()));
        return old;
    }

    /** The JWKS of issuer {@code name} as a file (for the static {@code jwks} setting). */
    public Path jwksFile(String name, Path dir) throws Exception {
        Path file = dir.resolve(name + "-jwks.json");
        Files.writeString(file, new JWKSet(keys.get(name)).toPublicJWKSet().toString());
        return file;
    }

    /** A token from issuer {@code name}: iss, a jti, iat/nbf at {@code now}, exp {@code ttl} later, plus {@code claims}. */
    public String mint(String name, Instant now, Duration ttl, Map<String, Object> claims) throws Exception {
        return sign(currentKey(name), standard(name, now, ttl, claims).build());
    }

    /** The standard claims of {@link #mint}, for a test to change before {@link #sign}. */
    public JWTClaimsSet.Builder standard(String name, Instant now, Duration ttl, Map<String, Object> claims) {
        JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder().issuer(url(name)).jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(ttl)));
        claims.forEach(builder::claim);
        return builder;
    }

    /** {@code claims} signed with {@code key} (RS256 for RSA, ES256 for EC), its kid in the header. */
    public static String sign(JWK key, JWTClaimsSet claims) throws Exception {
        boolean rsa = key instanceof RSAKey;
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(rsa ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256)
                .type(JOSEObjectType.JWT).keyID(key.getKeyID()).build(), claims);
        jwt.sign(rsa ? new RSASSASigner((RSAKey) key) : new ECDSASigner((ECKey) key));
        return jwt.serialize();
    }

    /** Kubernetes projected service account token claims (pod- and node-bound) for {@code audience}. */
    public static Map<String, Object> kubernetes(String audience, String namespace, String serviceAccount, String pod, String node,
                                                 String nodeUid) {
        return Map.of("aud", List.of(audience), "sub", "system:serviceaccount:" + namespace + ":" + serviceAccount,
                "kubernetes.io", Map.of("namespace", namespace,
                        "serviceaccount", Map.of("name", serviceAccount, "uid", UUID.randomUUID().toString()),
                        "pod", Map.of("name", pod, "uid", "pod-" + UUID.randomUUID()),
                        "node", Map.of("name", node, "uid", nodeUid)));
    }

    /** GitHub Actions OIDC token claims for {@code repository} at {@code ref}. */
    public static Map<String, Object> github(String audience, String repository, String ref, String environment) {
        String owner = repository.substring(0, repository.indexOf('/'));
        Map<String, Object> claims = new java.util.HashMap<>(Map.of("aud", audience,
                "sub", "repo:" + repository + ":environment:" + environment,
                "repository", repository, "repository_owner", owner, "ref", ref, "workflow", "deploy",
                "job_workflow_ref", repository + "/.github/workflows/deploy.yml@" + ref,
                "environment", environment, "run_id", "8812", "run_attempt", "1"));
        return claims;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
