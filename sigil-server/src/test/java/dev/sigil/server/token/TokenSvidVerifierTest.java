package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenSvidVerifierTest {
    private static final String AUD = "https://sigil.example.org/oauth2/token";
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
    private final ECKey key;
    private final JwtSvidVerifier verifier;

    TokenSvidVerifierTest() throws Exception {
        key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        SpiffeBundle bundle = new SpiffeBundle(TrustDomain.parse("example.org"), List.of(),
                List.of(new JwtAuthority("k1", key.toECPublicKey())), 1, Optional.empty());
        verifier = new JwtSvidVerifier(() -> bundle, clock);
    }

    private String sign(JWTClaimsSet claims, String kid) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return dev.sigil.core.crypto.JwsCanonical.withLowS(jwt.serialize(), key.toECPublicKey().getParams().getOrder());
    }

    private JWTClaimsSet.Builder claims() {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder().subject("spiffe://example.org/web").audience(AUD)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)));
    }

    private void refused(String token, String message) {
        assertThatThrownBy(() -> verifier.verify(token, "subject_token", Set.of(AUD)))
                .isInstanceOfSatisfying(OAuthException.class, e -> {
                    assertThat(e.error()).isEqualTo("invalid_request");
                    assertThat(e.status()).isEqualTo(400);
                })
                .hasMessageContaining(message);
    }

    @Test
    void validJwtSvidOfTheTrustDomainVerifies() throws Exception {
        assertThat(verifier.verify(sign(claims().build(), "k1"), "subject_token", Set.of(AUD)).subject().toString())
                .isEqualTo("spiffe://example.org/web");
    }

    @Test
    void expiredTokenIsRefused() throws Exception {
        String token = sign(claims().build(), "k1");
        clock.advance(Duration.ofMinutes(10));
        refused(token, "expired");
    }

    @Test
    void notYetValidTokenIsRefused() throws Exception {
        refused(sign(claims().notBeforeTime(Date.from(clock.instant().plusSeconds(120))).build(), "k1"), "not valid before");
        refused(sign(claims().issueTime(Date.from(clock.instant().plusSeconds(120))).build(), "k1"), "issued in the future");
    }

    @Test
    void tokenWithoutExpOrKidIsRefused() throws Exception {
        refused(sign(claims().expirationTime(null).build(), "k1"), "no exp");
        refused(sign(claims().build(), null), "no kid");
    }

    @Test
    void subjectOfAnotherTrustDomainIsRefused() throws Exception {
        refused(sign(claims().subject("spiffe://evil.org/web").build(), "k1"), "not in trust domain");
        refused(sign(claims().subject("https://example.org/web").build(), "k1"), "not a spiffe id");
    }

    @Test
    void wrongAudienceIsRefused() throws Exception {
        refused(sign(claims().audience("https://elsewhere").build(), "k1"), "does not contain " + AUD);
    }

    @Test
    void oversizedTokenIsRefusedBeforeParsing() {
        refused("a".repeat(JwtSvidVerifier.MAX_TOKEN_LENGTH + 1), "at most");
    }
}
