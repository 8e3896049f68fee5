package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * JWT-SVIDs of federated trust domains at the token service: verified with the keys of the trust domain
 * their {@code sub} names, from its federated bundle, and only by {@link JwtSvidVerifier#verifyFederated}
 * (the subject and actor of an exchange); everywhere else only this trust domain's tokens are accepted.
 */
class FederatedSvidVerifierTest {
    private static final String AUD = "https://sigil.example.org/oauth2/token";
    private static final TrustDomain PARTNER = TrustDomain.parse("partner.test");
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
    private final ECKey own;
    private final ECKey partner;
    private final JwtSvidVerifier verifier;

    FederatedSvidVerifierTest() throws Exception {
        own = new ECKeyGenerator(Curve.P_256).keyID("own-1").generate();
        partner = new ECKeyGenerator(Curve.P_256).keyID("partner-1").generate();
        SpiffeBundle ownBundle = new SpiffeBundle(TrustDomain.parse("example.org"), List.of(),
                List.of(new JwtAuthority("own-1", own.toECPublicKey())), 1, Optional.empty());
        SpiffeBundle partnerBundle = new SpiffeBundle(PARTNER, List.of(),
                List.of(new JwtAuthority("partner-1", partner.toECPublicKey())), 4, Optional.empty());
        verifier = new JwtSvidVerifier(() -> ownBundle, clock, JwtSvidVerifier.SvidStatus.none(),
                domain -> domain.equals(PARTNER) ? Optional.of(partnerBundle) : Optional.empty());
    }

    private String sign(ECKey key, String subject) throws Exception {
        return TestJwtSvids.es256(key, subject, AUD, clock.instant());
    }

    @Test
    void aJwtSvidOfAFederatedTrustDomainVerifiesWithThatTrustDomainsKeys() throws Exception {
        assertThat(verifier.verifyFederated(sign(partner, "spiffe://partner.test/web"), "subject_token", Set.of(AUD)).subject())
                .hasToString("spiffe://partner.test/web");
    }

    @Test
    void aJwtSvidOfATrustDomainThatIsNotFederatedIsRefused() throws Exception {
        assertThatThrownBy(() -> verifier.verifyFederated(sign(partner, "spiffe://stranger.test/web"), "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("stranger.test, which this trust domain does not federate with");
    }

    @Test
    void aForeignSubjectSignedWithAnotherTrustDomainsKeyIsRefused() throws Exception {
        // signed by this trust domain's key, claiming a partner subject: the partner's bundle has no such key
        assertThatThrownBy(() -> verifier.verifyFederated(sign(own, "spiffe://partner.test/web"), "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("not a jwt authority of trust domain partner.test");
        // and a partner key cannot sign for this trust domain's subjects
        assertThatThrownBy(() -> verifier.verifyFederated(sign(partner, "spiffe://example.org/web"), "subject_token", Set.of(AUD)))
                .isInstanceOf(OAuthException.class).hasMessageContaining("not a jwt authority of trust domain example.org");
    }

    @Test
    void aFederatedJwtSvidIsNotAcceptedWhereOnlyThisTrustDomainsAreAndNeedsTheAudience() throws Exception {
        String token = sign(partner, "spiffe://partner.test/web");
        assertThatThrownBy(() -> verifier.verify(token, "bearer token", Set.of(AUD))).isInstanceOf(OAuthException.class);
        assertThatThrownBy(() -> verifier.verifyFederated(token, "subject_token", Set.of("https://elsewhere")))
                .isInstanceOf(OAuthException.class).hasMessageContaining("audience");
    }
}
