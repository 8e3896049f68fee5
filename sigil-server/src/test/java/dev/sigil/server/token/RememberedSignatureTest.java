package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.JwsCanonical;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A JWT-SVID's signature is verified once and remembered ({@link VerifiedSignatures}); what a remembered
 * token may no longer do once the world changes: every case presents a token that verified before.
 */
class RememberedSignatureTest {
    private static final String AUD = "https://sigil.example.org/oauth2/token";
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
    private final ECKey key = generate("jwt-1");
    private final AtomicReference<SpiffeBundle> bundle = new AtomicReference<>(bundleWith("jwt-1", key));
    private final JwtSvidVerifier verifier = new JwtSvidVerifier(bundle::get, clock);

    @Test
    void aRememberedTokenIsRefusedOnceItsKeyLeavesTheBundle() throws Exception {
        String token = sign(key, "spiffe://example.org/web");
        verifier.verify(token, "subject_token", Set.of(AUD));
        bundle.set(bundleWith("jwt-2", generate("jwt-2")));
        assertThatThrownBy(() -> verifier.verify(token, "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("not a jwt authority of trust domain example.org");
    }

    @Test
    void anotherKeyUnderTheSameKidDoesNotInheritTheVerdict() throws Exception {
        String token = sign(key, "spiffe://example.org/web");
        verifier.verify(token, "subject_token", Set.of(AUD));
        bundle.set(bundleWith("jwt-1", generate("jwt-1")));
        assertThatThrownBy(() -> verifier.verify(token, "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("invalid signature for key 'jwt-1'");
    }

    @Test
    void aCopyWithOtherClaimsAndTheRememberedSignatureIsRefused() throws Exception {
        String token = sign(key, "spiffe://example.org/web");
        verifier.verify(token, "subject_token", Set.of(AUD));
        String[] parts = token.split("\\.");
        String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        String admin = Base64.getUrlEncoder().withoutPadding().encodeToString(
                claims.replace("spiffe://example.org/web", "spiffe://example.org/admin").getBytes(StandardCharsets.UTF_8));
        String forged = parts[0] + "." + admin + "." + parts[2];
        assertThatThrownBy(() -> verifier.verify(forged, "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("invalid signature");
    }

    @Test
    void aRememberedTokenStillExpiresAndStillNeedsTheAudience() throws Exception {
        String token = sign(key, "spiffe://example.org/web");
        assertThat(verifier.verify(token, "subject_token", Set.of(AUD)).subject()).hasToString("spiffe://example.org/web");
        assertThatThrownBy(() -> verifier.verify(token, "subject_token", Set.of("https://elsewhere")))
                .isInstanceOf(OAuthException.class).hasMessageContaining("audience");
        clock.advance(Duration.ofMinutes(10));
        assertThatThrownBy(() -> verifier.verify(token, "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("expired at");
    }

    @Test
    void aRememberedTokenIsStillRefusedWhenRevoked() throws Exception {
        AtomicReference<Optional<String>> revoked = new AtomicReference<>(Optional.empty());
        JwtSvidVerifier withStatus = new JwtSvidVerifier(bundle::get, clock, claims -> revoked.get());
        String token = sign(key, "spiffe://example.org/web");
        withStatus.verify(token, "subject_token", Set.of(AUD));
        revoked.set(Optional.of("was revoked (status list entry 7)"));
        assertThatThrownBy(() -> withStatus.verify(token, "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("was revoked");
    }

    @Test
    void onlyVerifiedTokensAreRememberedAndTheirNumberIsBounded() throws Exception {
        VerifiedSignatures signatures = new VerifiedSignatures();
        for (int i = 0; i < VerifiedSignatures.MAX_ENTRIES + 10; i++) {
            signatures.remember("token-" + i, key.toECPublicKey(), true);
        }
        assertThat(signatures.size()).isLessThanOrEqualTo(VerifiedSignatures.MAX_ENTRIES);
        signatures.remember("x".repeat(VerifiedSignatures.MAX_TOKEN_CHARS + 1), key.toECPublicKey(), true);
        assertThat(signatures.verifiedBefore("x".repeat(VerifiedSignatures.MAX_TOKEN_CHARS + 1), key.toECPublicKey(), true)).isFalse();
        // remembered without the canonical-form check: does not count where that check is required
        signatures.remember("federated", key.toECPublicKey(), false);
        assertThat(signatures.verifiedBefore("federated", key.toECPublicKey(), false)).isTrue();
        assertThat(signatures.verifiedBefore("federated", key.toECPublicKey(), true)).isFalse();
    }

    private static ECKey generate(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static SpiffeBundle bundleWith(String kid, ECKey key) {
        try {
            return new SpiffeBundle(TD, List.of(), List.of(new JwtAuthority(kid, key.toECPublicKey())), 1, Optional.empty());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private String sign(ECKey signer, String subject) throws Exception {
        // Sigil accepts its own trust domain's tokens only in the low-s form it signs
        return JwsCanonical.withLowS(TestJwtSvids.es256(signer, subject, AUD, clock.instant()), signer.toECPublicKey().getParams().getOrder());
    }
}
