package dev.sigil.agent.cache;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

/** Key pairs for WIT-SVIDs: EC P-256 (ES256), generated on the agent; the private half goes to the workload only. */
final class WitKeys {
    private WitKeys() {}

    /** The public JWK (sent to the server) and the private JWK (sent to the workload). {@link #toString()} hides the latter. */
    record Pair(String publicJwk, String privateJwk) {
        @Override
        public String toString() {
            return "WitKeys.Pair[" + publicJwk + ", private=<redacted>]";
        }
    }

    static Pair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            ECKey jwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic())
                    .privateKey((ECPrivateKey) pair.getPrivate())
                    .algorithm(JWSAlgorithm.ES256)
                    .build();
            return new Pair(jwk.toPublicJWK().toJSONString(), jwk.toJSONString());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an ec p-256 key pair: " + e.getMessage(), e);
        }
    }
}
