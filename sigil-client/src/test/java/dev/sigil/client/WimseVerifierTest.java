package dev.sigil.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link WimseVerifier} on its own, with a WIT bundle given as a JWKS (what FetchWITBundles sends): the checks the
 * end-to-end test (sigil-cli's WimseEndToEndTest) does not reach through a real server.
 */
class WimseVerifierTest {
    private static final String AUDIENCE = "https://orders.example.org/v1/orders";
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    private final ECKey authority = key("wit-1", new KeyUse("wit-svid"));
    private final ECKey jwtAuthority = key("jwt-1", new KeyUse("jwt-svid"));
    private final ECKey workload = key(null, null);

    private static ECKey key(String kid, KeyUse use) {
        try {
            return new ECKeyGenerator(Curve.P_256).algorithm(JWSAlgorithm.ES256).keyID(kid).keyUse(use).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private WimseVerifier verifier(int replayCacheSize) {
        String jwks = new JWKSet(List.of(authority.toPublicJWK(), jwtAuthority.toPublicJWK())).toString();
        return WimseVerifier.builder("example.org").witJwks(jwks).clock(clock).replayCacheSize(replayCacheSize).build();
    }

    private String wit(ECKey signer, Consumer<JWTClaimsSet.Builder> change) throws Exception {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().subject("spiffe://example.org/web")
                .issueTime(Date.from(clock.instant())).expirationTime(Date.from(clock.instant().plusSeconds(300))).jwtID("w1")
                .claim("cnf", Map.of("jwk", workload.toPublicJWK().toJSONObject()));
        change.accept(claims);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(signer.getKeyID()).type(new JOSEObjectType("wit+jwt"))
                .build(), claims.build());
        jwt.sign(new ECDSASigner(signer));
        return jwt.serialize();
    }

    private String proof(String wit, Duration lifetime) {
        return WorkloadProofs.create(wit, workload.toJSONString(), AUDIENCE, lifetime, Optional.empty(), Optional.empty(), clock);
    }

    @Test
    void aWitBundleKeyWithoutUseIsTrustedButAJwtSvidKeyIsNot() throws Exception {
        ECKey plain = key("plain", null);
        WimseVerifier fromPlainBundle = WimseVerifier.builder("example.org")
                .witJwks(new JWKSet(List.of(plain.toPublicJWK())).toString()).clock(clock).build();
        String wit = wit(plain, claims -> { });
        assertThat(fromPlainBundle.verify(wit, proof(wit, Duration.ofSeconds(60)), AUDIENCE).spiffeId()).isEqualTo("spiffe://example.org/web");

        String signedByJwtKey = wit(jwtAuthority, claims -> { });
        assertThatThrownBy(() -> verifier(10).verifyWit(signedByJwtKey))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.UNKNOWN_KEY));
    }

    @Test
    void aWitWithAnAudienceOrWithoutAPublicConfirmationKeyIsRefused() throws Exception {
        WimseVerifier verifier = verifier(10);
        for (String wit : List.of(wit(authority, claims -> claims.audience("anyone")),
                wit(authority, claims -> claims.claim("cnf", null)),
                wit(authority, claims -> claims.claim("cnf", Map.of("jwk", workload.toJSONObject()))),
                wit(authority, claims -> claims.subject("https://example.org/web")))) {
            assertThatThrownBy(() -> verifier.verifyWit(wit)).isInstanceOfSatisfying(InvalidTokenException.class,
                    e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.MALFORMED));
        }
    }

    @Test
    void aLongLivedProofOrOneForAnotherWitIsRefused() throws Exception {
        WimseVerifier verifier = verifier(10);
        String wit = wit(authority, claims -> { });
        assertThatThrownBy(() -> verifier.verify(wit, proof(wit, Duration.ofHours(1)), AUDIENCE))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.MALFORMED))
                .hasMessageContaining("at most");
        String other = wit(authority, claims -> claims.jwtID("w2"));
        assertThatThrownBy(() -> verifier.verify(wit, proof(other, Duration.ofSeconds(60)), AUDIENCE))
                .isInstanceOfSatisfying(InvalidTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.PROOF_MISMATCH))
                .hasMessageContaining("wth");
    }

    @Test
    void aFullReplayCacheRefusesNewProofsUntilTheOldOnesExpire() throws Exception {
        WimseVerifier verifier = verifier(1);
        String wit = wit(authority, claims -> { });
        verifier.verify(wit, proof(wit, Duration.ofSeconds(10)), AUDIENCE);

        assertThatThrownBy(() -> verifier.verify(wit, proof(wit, Duration.ofSeconds(10)), AUDIENCE))
                .isInstanceOfSatisfying(InvalidTokenException.class, e -> assertThat(e.reason()).isEqualTo(InvalidTokenException.Reason.REPLAYED))
                .hasMessageContaining("full");

        clock.advance(Duration.ofSeconds(41)); // past the first proof's exp and the leeway
        String later = wit(authority, claims -> { });
        assertThat(verifier.verify(later, proof(later, Duration.ofSeconds(10)), AUDIENCE).proofId()).isPresent();
    }
}
