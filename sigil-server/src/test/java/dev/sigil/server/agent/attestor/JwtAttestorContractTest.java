package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.sigil.agent.attestor.JwtAttestorClient;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.agent.attestor.jwt.JwtAttestorPlugin;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.registration.JoinTokens;
import dev.sigil.server.testing.TestOidcIssuer;
import dev.sigil.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node attestor contract for {@code jwt}, with an issuer whose keys are a static JWKS file (the HTTPS paths: JwtJoinTest). */
class JwtAttestorContractTest extends NodeAttestorContract {
    private static final TrustDomain TD = new TrustDomain("example.org");
    private static final String ISSUER = "https://k8s.example";
    @TempDir
    Path tmp;
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private Datastore datastore;
    private JWK key;
    private NodeAttestor attestor;

    @BeforeEach
    void open() throws Exception {
        datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")));
        key = new RSAKeyGenerator(2048).keyID("k8s-1").generate();
        Path jwks = tmp.resolve("jwks.json");
        Files.writeString(jwks, new com.nimbusds.jose.jwk.JWKSet(key).toPublicJWKSet().toString());
        attestor = new JwtAttestorPlugin().create(new JwtAttestorPlugin.Settings(List.of(new JwtAttestorPlugin.Issuer(ISSUER, null, "sigil",
                jwks, null, null, "k8s_psat", "prod", null))), new NodeAttestorPlugin.Context(TD,
                JoinTokens.create(datastore, AuditTrail.create(datastore, clock), clock), clock, SingleUseEvidence.create(datastore, clock)));
    }

    @AfterEach
    void close() {
        datastore.close();
    }

    private String token(JWK signer) throws Exception {
        return TestOidcIssuer.sign(signer, new com.nimbusds.jwt.JWTClaimsSet.Builder(com.nimbusds.jwt.JWTClaimsSet.parse(
                        new java.util.HashMap<>(TestOidcIssuer.kubernetes("sigil", "sigil-system", "sigil-agent", "agent-x", "node-1", "uid-1"))))
                .issuer(ISSUER).jwtID(java.util.UUID.randomUUID().toString())
                .issueTime(java.util.Date.from(clock.instant())).expirationTime(java.util.Date.from(clock.instant().plus(Duration.ofMinutes(10))))
                .build());
    }

    private NodeAttestorClient client(String token) throws Exception {
        Path file = Files.createTempFile(tmp, "token", ".jwt");
        Files.writeString(file, token + "\n");
        return new JwtAttestorClient(file);
    }

    @Override
    protected NodeAttestor server() {
        return attestor;
    }

    @Override
    protected NodeAttestorClient goodClient() {
        try {
            return client(token(key));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected NodeAttestorClient impostor() {
        try {
            return client(token(new RSAKeyGenerator(2048).keyID("k8s-1").generate()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected List<String> secretsOf(NodeAttestorClient client) {
        return List.of(new String(client.evidence(), StandardCharsets.US_ASCII));
    }

    @Test
    void theTokenIsReadFromItsFileAtEachAttestation() throws Exception {
        Path file = tmp.resolve("projected-token");
        Files.writeString(file, token(key));
        JwtAttestorClient client = new JwtAttestorClient(file);
        assertThat(drive(attestor, client, client.evidence()).result()).isInstanceOf(AttestationStep.Attested.class);

        Files.writeString(file, token(key));

        assertThat(drive(attestor, client, client.evidence()).result()).isInstanceOf(AttestationStep.Attested.class);
        assertThat(client.toString()).contains(file.toString()).doesNotContain(new String(client.evidence(), StandardCharsets.US_ASCII));
    }
}
