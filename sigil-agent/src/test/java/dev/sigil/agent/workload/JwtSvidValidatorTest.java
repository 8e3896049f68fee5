package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.sigil.agent.workload.WorkloadIdentities.Bundles;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Validation against an injected clock, and federated trust domains. */
class JwtSvidValidatorTest {
    private final TestTrustDomain own = new TestTrustDomain("example.org");
    private final TestTrustDomain partner = new TestTrustDomain("partner.test");
    private final Bundles bundles = new Bundles(own.bundle(), Map.of(partner.domain, partner.bundle()));
    private final MutableClock clock = MutableClock.at(Instant.now());
    private final JwtSvidValidator validator = new JwtSvidValidator(clock);

    @Test
    void tokenExpiresExactlyAtItsExpByTheInjectedClock() {
        Instant expiry = clock.instant().plus(Duration.ofMinutes(5));
        String token = own.jwt(own.id("/billing"), List.of("payments"), expiry);
        assertThat(validator.validate(token, "payments", bundles)).isInstanceOf(JwtSvidValidator.Valid.class);

        clock.set(expiry);

        assertThat(validator.validate(token, "payments", bundles)).isInstanceOfSatisfying(JwtSvidValidator.Invalid.class,
                invalid -> assertThat(invalid.reason()).contains("expired"));
    }

    @Test
    void federatedTokenValidatesWithItsTrustDomainsBundle() {
        SpiffeId subject = partner.id("/ledger");
        String token = partner.jwt(subject, List.of("payments"), clock.instant().plusSeconds(60));

        assertThat(validator.validate(token, "payments", bundles)).isInstanceOfSatisfying(JwtSvidValidator.Valid.class, valid -> {
            assertThat(valid.spiffeId()).isEqualTo(subject);
            assertThat(valid.claimsJson()).contains("\"sub\":\"spiffe://partner.test/ledger\"");
        });
    }

    @Test
    void tokenClaimingAnotherTrustDomainIsNotAcceptedWithOurKey() {
        // signed with our key and our kid, but claiming to be from the partner trust domain
        String token = own.jwt(partner.id("/ledger"), List.of("payments"), clock.instant().plusSeconds(60));
        assertThat(validator.validate(token, "payments", bundles)).isInstanceOf(JwtSvidValidator.Invalid.class);
    }

    @Test
    void unexpectedTypIsInvalid() {
        String token = own.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(own.jwtKeyId).type(new JOSEObjectType("at+jwt")).build(),
                new JWTClaimsSet.Builder().subject(own.id("/x").toString()).audience("payments")
                        .expirationTime(Date.from(clock.instant().plusSeconds(60))).build());
        assertThat(validator.validate(token, "payments", bundles)).isInstanceOfSatisfying(JwtSvidValidator.Invalid.class,
                invalid -> assertThat(invalid.reason()).contains("typ 'at+jwt'"));
    }

    @Test
    void accessTokenOfAnOlderServerWithJwtTypIsInvalid() {
        for (String claim : JwtSvidValidator.ACCESS_TOKEN_CLAIMS) {
            String token = own.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(own.jwtKeyId).type(JOSEObjectType.JWT).build(),
                    new JWTClaimsSet.Builder().subject(own.id("/x").toString()).audience("payments").claim(claim, "x")
                            .expirationTime(Date.from(clock.instant().plusSeconds(60))).build());
            assertThat(validator.validate(token, "payments", bundles)).as(claim).isInstanceOfSatisfying(JwtSvidValidator.Invalid.class,
                    invalid -> assertThat(invalid.reason()).contains("access token claim '" + claim + "'"));
        }
    }

    @Test
    void newlineInKidDoesNotReachTheReason() {
        String token = own.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k\nforged log line").build(),
                new JWTClaimsSet.Builder().subject(own.id("/x").toString()).audience("payments")
                        .expirationTime(Date.from(clock.instant().plusSeconds(60))).build());
        assertThat(validator.validate(token, "payments", bundles)).isInstanceOfSatisfying(JwtSvidValidator.Invalid.class,
                invalid -> assertThat(invalid.reason()).doesNotContain("\n").contains("k?forged"));
    }

    @Test
    void invalidReasonNeverContainsTheToken() {
        String token = own.jwt(own.id("/billing"), List.of("payments"), clock.instant().plusSeconds(60));
        assertThat(validator.validate(token, "ledger", bundles)).isInstanceOfSatisfying(JwtSvidValidator.Invalid.class,
                invalid -> assertThat(invalid.reason()).doesNotContain(token.substring(token.lastIndexOf('.') + 1)));
    }
}
