package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole server configured with {@code key_manager.type: pkcs11} on a real SoftHSM2 token: its CA and JWT
 * keys are made in the token, the SVIDs it mints verify against its bundle, and no private key of the
 * server is written to its data directory.
 */
class ServerOnPkcs11Test {
    @TempDir
    Path dir;

    @Test
    void theServersKeysLiveInTheTokenAndWhatItMintsVerifies() throws Exception {
        Path pinFile = SoftHsm.token();
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                key_manager:
                  type: pkcs11
                  library: %s
                  slot_list_index: 0
                  pin_file: %s
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  enabled: false
                """.formatted(dir.resolve("data"), SoftHsm.LIBRARY, pinFile));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC())) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair workload = generator.generateKeyPair();
            byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=ignored"), workload.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(workload.getPrivate())).getEncoded();
            List<X509Certificate> chain = server.authority().mintX509Svid(SpiffeId.parse("spiffe://example.org/web"), csr,
                    Duration.ofMinutes(5), List.of()).chain();
            X509Certificate root = server.authority().bundle().x509Authorities().get(0);
            for (int i = 0; i < chain.size(); i++) {
                // each certificate is signed by the next one, the last by the bundle's root (signatures made in the token)
                chain.get(i).verify((i + 1 < chain.size() ? chain.get(i + 1) : root).getPublicKey());
            }

            SignedJWT jwt = SignedJWT.parse(server.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/web"),
                    Audience.of("https://api"), Duration.ofMinutes(5)).token());
            ECKey key = (ECKey) JWKSet.parse(server.authority().bundle().jwtAuthoritiesJwks()).getKeyByKeyId(jwt.getHeader().getKeyID());
            assertThat(jwt.verify(new ECDSAVerifier(key))).as("the JWT-SVID verifies against the JWKS").isTrue();
        }
        try (var files = Files.walk(dir.resolve("data"))) {
            List<String> keyFiles = files.filter(Files::isRegularFile).map(path -> path.getFileName().toString())
                    .filter(name -> name.endsWith(".key") || name.endsWith(".pem") || name.contains("private")).toList();
            // the audit HMAC key is the one key that is a file whatever the key manager (docs/configuration.md)
            assertThat(keyFiles).as("private key files in the data directory").containsOnly("audit-hmac.key");
        }
    }
}
