package dev.sigil.server.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.server.tls.TlsMaterial;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BundleEndpointTest {
    static final String BUNDLE = "{\"keys\":[],\"spiffe_sequence\":3,\"spiffe_refresh_hint\":300}";
    static final String JWKS = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\",\"alg\":\"ES256\",\"use\":\"sig\"}]}";

    static final String SSH_CA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= sigil-ssh-user-ca";

    static TestPki pki;
    static BundleEndpoint endpoint;
    static SSLContext anonymousClient;

    @BeforeAll
    static void start() {
        pki = TestPki.create("sigil.test", Instant.now());
        TlsIdentity identity = pki.issue("spiffe://sigil.test/sigil/server");
        PublicMaterial material = new PublicMaterial() {
            @Override
            public String bundleJson() {
                return BUNDLE;
            }

            @Override
            public String jwksJson() {
                return JWKS;
            }

            @Override
            public List<String> signingAlgorithms() {
                return List.of("ES256");
            }

            @Override
            public java.util.Optional<String> sshUserCaPublicKey() {
                return java.util.Optional.of(SSH_CA);
            }
        };
        TlsMaterial tls = () -> identity;
        endpoint = BundleEndpoint.create(BundleEndpoint.Options.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMinutes(5), URI.create("https://oidc.sigil.test")), tls, material);
        endpoint.start();
        anonymousClient = pki.clientContext(null);
    }

    @AfterAll
    static void stop() {
        endpoint.close();
    }

    private static RawHttp.Reply get(String path) throws Exception {
        return RawHttp.tls(anonymousClient, endpoint.address(), "GET", path);
    }

    @Test
    void bundleIsServedOverTlsToAClientWithoutACertificate() throws Exception {
        for (String path : List.of("/", "/bundle")) {
            RawHttp.Reply reply = get(path);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.header("content-type")).isEqualTo("application/json");
            assertThat(reply.header("cache-control")).isEqualTo("public, max-age=300");
            assertThat(reply.body()).isEqualTo(BUNDLE);
        }
    }

    @Test
    void jwksIsServedAtKeys() throws Exception {
        assertThat(get("/keys").body()).isEqualTo(JWKS);
    }

    @Test
    void discoveryNamesTheIssuerKeysAndAlgorithms() throws Exception {
        assertThat(get("/.well-known/openid-configuration").body()).isEqualTo(
                "{\"issuer\":\"https://oidc.sigil.test\",\"jwks_uri\":\"https://oidc.sigil.test/keys\","
                        + "\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],"
                        + "\"id_token_signing_alg_values_supported\":[\"ES256\"]}");
    }

    @Test
    void sshUserCaPublicKeyIsServedAsTextForTrustedUserCaKeys() throws Exception {
        RawHttp.Reply reply = get("/ssh/user-ca.pub");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(reply.body()).isEqualTo(SSH_CA + "\n");
    }

    @Test
    void unknownPathIsA404InJson() throws Exception {
        RawHttp.Reply reply = get("/admin");
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.body()).startsWith("{\"error\":{\"code\":\"not_found\",\"message\":\"no such document: /admin");
    }

    @Test
    void writesAreA405() throws Exception {
        RawHttp.Reply reply = RawHttp.tls(anonymousClient, endpoint.address(), "POST", "/bundle");
        assertThat(reply.status()).isEqualTo(405);
        assertThat(reply.header("allow")).isEqualTo("GET, HEAD");
        assertThat(reply.body()).contains("method_not_allowed");
    }
}
