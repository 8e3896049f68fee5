package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtSvidTest {
    static final TrustDomain DOMAIN = TrustDomain.parse("example.org");
    static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/ns/prod/sa/billing");
    static final Duration FIVE_MINUTES = Duration.ofMinutes(5);

    @TempDir
    Path temp;
    MutableClock clock = MutableClock.atEpochOfTests();
    Datastore datastore;

    Authority start(AuthorityConfig config) {
        datastore = TestStores.sqlite(temp);
        return Authority.start(config, datastore, KeyManagers.memory(), clock, RotationListener.none());
    }

    @AfterEach
    void stop() {
        if (datastore != null) {
            datastore.close();
        }
    }

    @Test
    void tokenVerifiesAgainstTheBundleJwksAndCarriesTheRequiredClaims() throws Exception {
        Authority authority = start(AuthorityConfig.defaults(DOMAIN));

        JwtSvid svid = authority.mintJwtSvid(WORKLOAD, Audience.of("https://billing.example.org"), FIVE_MINUTES);

        SignedJWT jwt = SignedJWT.parse(svid.token());
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(jwt.getHeader().getKeyID()).isNotBlank().isEqualTo(svid.keyId());
        assertThat(jwt.getHeader().getType()).isEqualTo(JOSEObjectType.JWT);
        assertThat(jwt.verify(verifierFromBundle(authority, jwt))).isTrue();
        assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(WORKLOAD.toString());
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("https://billing.example.org");
        assertThat(jwt.getJWTClaimsSet().getExpirationTime().toInstant()).isEqualTo(clock.instant().plus(FIVE_MINUTES));
        assertThat(jwt.getJWTClaimsSet().getIssueTime().toInstant()).isEqualTo(clock.instant());
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isNull();
        assertThat(svid.expiresAt()).isEqualTo(clock.instant().plus(FIVE_MINUTES));
    }

    @Test
    void severalAudiencesAndTheConfiguredIssuerAreCarried() throws Exception {
        Authority authority = start(AuthorityConfig.defaults(DOMAIN).withJwtIssuer("https://oidc.example.org"));

        JwtSvid svid = authority.mintJwtSvid(WORKLOAD, Audience.of("a", "b", "a"), FIVE_MINUTES);

        SignedJWT jwt = SignedJWT.parse(svid.token());
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("a", "b");
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo("https://oidc.example.org");
    }

    @Test
    void audienceAndIssuerWithJsonSpecialCharactersRoundTrip() throws Exception {
        String awkward = "quote\" backslash\\ newline\n tab\t bell\u0007 unicode é 🙂";
        // an audience is printable without spaces (Audience); JSON escaping is still needed for " and \
        String awkwardAudience = "quote\"backslash\\unicode-é-🙂";
        Authority authority = start(AuthorityConfig.defaults(DOMAIN).withJwtIssuer(awkward));

        SignedJWT jwt = SignedJWT.parse(authority.mintJwtSvid(WORKLOAD, Audience.of(awkwardAudience, "plain"), FIVE_MINUTES).token());

        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(awkwardAudience, "plain");
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(awkward);
        assertThat(jwt.verify(verifierFromBundle(authority, jwt))).isTrue();
    }

    @Test
    void es384AndRs256KeysAreSelectable() throws Exception {
        for (KeyType type : List.of(KeyType.EC_P384, KeyType.RSA_2048)) {
            if (datastore != null) {
                datastore.close();
            }
            temp = java.nio.file.Files.createDirectories(temp.resolve(type.configName()));
            Authority authority = start(AuthorityConfig.defaults(DOMAIN).withJwtKeyType(type));

            SignedJWT jwt = SignedJWT.parse(authority.mintJwtSvid(WORKLOAD, Audience.of("aud"), FIVE_MINUTES).token());

            assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(type.jwsAlgorithm());
            assertThat(jwt.verify(verifierFromBundle(authority, jwt))).isTrue();
        }
    }

    @Test
    void expiryIsCappedByTheSigningKeyLifetime() throws Exception {
        Authority authority = start(AuthorityConfig.defaults(DOMAIN));
        Instant keyExpiry = clock.instant().plus(AuthorityConfig.DEFAULT_JWT_KEY_TTL);

        JwtSvid svid = authority.mintJwtSvid(WORKLOAD, Audience.of("aud"), Duration.ofDays(30));

        assertThat(svid.expiresAt()).isEqualTo(keyExpiry);
        assertThat(SignedJWT.parse(svid.token()).getJWTClaimsSet().getExpirationTime().toInstant()).isEqualTo(keyExpiry);
    }

    @Test
    void tokenIsNeverPrinted() {
        Authority authority = start(AuthorityConfig.defaults(DOMAIN));

        JwtSvid svid = authority.mintJwtSvid(WORKLOAD, Audience.of("aud"), FIVE_MINUTES);

        assertThat(svid.toString()).contains("token=<redacted>").doesNotContain(svid.token().substring(0, 20));
    }

    @Test
    void audienceMustHaveAtLeastOneNonBlankValue() {
        assertThatThrownBy(() -> new Audience(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one audience");
        assertThatThrownBy(() -> Audience.of(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("audience value is blank");
        assertThatThrownBy(() -> Audience.of("db\nforged")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("space or control character");
        assertThatThrownBy(() -> Audience.of("a".repeat(513))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most 512");
    }

    @Test
    void spiffeIdOfAnotherTrustDomainIsRefused() {
        Authority authority = start(AuthorityConfig.defaults(DOMAIN));

        assertThatThrownBy(() -> authority.mintJwtSvid(SpiffeId.parse("spiffe://other.org/w"), Audience.of("aud"), FIVE_MINUTES))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not in trust domain 'example.org'");
    }

    /** What a relying party does: find the key named by {@code kid} in the published bundle. */
    static JWSVerifier verifierFromBundle(Authority authority, SignedJWT jwt) throws Exception {
        JWKSet published = JWKSet.parse(authority.bundle().toJson());
        JWK key = published.getKeyByKeyId(jwt.getHeader().getKeyID());
        assertThat(key).as("bundle has a key with kid %s", jwt.getHeader().getKeyID()).isNotNull();
        assertThat(key.getKeyUse().getValue()).isEqualTo("jwt-svid");
        return key.getKeyType().getValue().equals("EC") ? new ECDSAVerifier(key.toECKey()) : new RSASSAVerifier(key.toRSAKey());
    }
}
