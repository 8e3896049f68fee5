package dev.sigil.bench;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.agent.attestor.NodeAttestorPlugin;
import dev.sigil.server.agent.attestor.SingleUseEvidence;
import dev.sigil.server.agent.attestor.jwt.JwtAttestorPlugin;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JWT node attestation (Kubernetes projected service-account tokens, preset {@code k8s_psat}) on one
 * thread: how many joins a server core verifies per second. Each token is distinct (its own {@code jti}),
 * signed ES256 by an issuer whose JWKS is a file, and goes through the real attestor: parse, issuer and
 * key lookup, signature, times, audience, claim mapping to selectors, and the single-use record
 * ({@code --store memory} an in-memory set, {@code --store sqlite} the datastore table every server
 * shares, which is what a deployment pays). See bench/README.md section 21.
 *
 * <pre>java -cp sigil-bench.jar dev.sigil.bench.JwtJoinBench [--tokens 20000] [--store memory|sqlite]</pre>
 */
public final class JwtJoinBench {
    private JwtJoinBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--tokens", "--store"));
        int tokens = options.positiveInt("--tokens", 20_000);
        String store = options.string("--store", "memory");
        Path dir = Files.createTempDirectory("sigil-jwt-join-bench");
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString());
        String issuer = "https://kubernetes.default.svc.cluster.local";
        Datastore datastore = store.equals("sqlite") ? Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db"))) : null;
        SingleUseEvidence singleUse = datastore != null ? SingleUseEvidence.create(datastore, Clock.systemUTC()) : new MemorySingleUse();
        NodeAttestor attestor = new JwtAttestorPlugin().create(new JwtAttestorPlugin.Settings(List.of(new JwtAttestorPlugin.Issuer(issuer,
                        "prod", "sigil", jwks, null, null, "k8s_psat", "prod", Map.of()))),
                new NodeAttestorPlugin.Context(new TrustDomain("example.org"), null, Clock.systemUTC(), singleUse));

        List<byte[]> signed = new ArrayList<>(tokens + 2_000);
        ECDSASigner signer = new ECDSASigner(key);
        for (int i = 0; i < tokens + 2_000; i++) {
            signed.add(token(signer, issuer, i).getBytes(StandardCharsets.US_ASCII));
        }
        // warm-up, then the measured run
        for (int i = 0; i < 2_000; i++) {
            attest(attestor, signed.get(i));
        }
        long start = System.nanoTime();
        for (int i = 2_000; i < signed.size(); i++) {
            attest(attestor, signed.get(i));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("jwt join (k8s_psat, ES256, single use in %s): %d verifications in %.2f s = %.0f per second on one thread,"
                + " %.1f us each%n", store, tokens, seconds, tokens / seconds, seconds * 1e6 / tokens);
        if (datastore != null) {
            datastore.close();
        }
    }

    private static void attest(NodeAttestor attestor, byte[] token) {
        AttestationStep step = attestor.begin(token, "bench");
        if (!(step instanceof AttestationStep.Attested)) {
            throw new IllegalStateException("the bench token was not accepted: " + step);
        }
    }

    /** A projected service-account token in the shape Kubernetes issues (kubernetes.io claim with pod, node, service account). */
    private static String token(ECDSASigner signer, String issuer, int i) throws Exception {
        Instant now = Instant.now();
        Map<String, Object> kubernetes = Map.of("namespace", "spire",
                "serviceaccount", Map.of("name", "spire-agent", "uid", UUID.randomUUID().toString()),
                "pod", Map.of("name", "spire-agent-" + i, "uid", UUID.randomUUID().toString()),
                "node", Map.of("name", "node-" + i, "uid", UUID.randomUUID().toString()));
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject("system:serviceaccount:spire:spire-agent")
                .audience("sigil").issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
                .jwtID(UUID.randomUUID().toString()).claim("kubernetes.io", kubernetes).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    /** Single use in memory: what the attestor costs without the shared datastore. */
    private static final class MemorySingleUse implements SingleUseEvidence {
        private final Set<String> used = ConcurrentHashMap.newKeySet();

        @Override
        public boolean firstUse(String attestorType, String key, Instant usableUntil) {
            return used.add(attestorType + ":" + key);
        }

        @Override
        public int pruneExpired() {
            return 0;
        }
    }
}
