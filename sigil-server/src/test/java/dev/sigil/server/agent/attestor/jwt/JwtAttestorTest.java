package dev.sigil.server.agent.attestor.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.SingleUseEvidence;
import dev.sigil.server.testing.TestOidcIssuer;
import dev.sigil.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jwt attestor's mappings and its HTTPS key discovery against a test issuer that misbehaves. */
class JwtAttestorTest {
    private static final TrustDomain TD = new TrustDomain("example.org");
    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    private final Set<String> used = new HashSet<>();
    private final SingleUseEvidence singleUse = new SingleUseEvidence() {
        @Override
        public boolean firstUse(String attestorType, String key, Instant usableUntil) {
            return used.add(key);
        }

        @Override
        public int pruneExpired() {
            return 0;
        }
    };
    private TestOidcIssuer issuers;

    @BeforeEach
    void start() throws Exception {
        issuers = TestOidcIssuer.start(dir);
    }

    @AfterEach
    void stop() {
        issuers.close();
    }

    private JwtAttestor attestor(String name, Optional<Preset> preset, List<ClaimMapping> claims) {
        List<ClaimMapping> mappings = new java.util.ArrayList<>(preset.map(Preset::mappings).orElse(List.of()));
        mappings.addAll(claims);
        return new JwtAttestor(TD, List.of(new TrustedIssuer(issuers.url(name), "sigil", Duration.ofSeconds(30), preset, Optional.empty(),
                mappings, name, IssuerKeys.discovered(issuers.url(name), HttpsFetcher.create(Optional.of(issuers.caBundle())), clock))),
                singleUse, clock);
    }

    private static AttestationStep attest(JwtAttestor attestor, String token) {
        return attestor.begin(token.getBytes(StandardCharsets.US_ASCII), "test-agent");
    }

    private static List<String> selectors(AttestationStep step) {
        assertThat(step).isInstanceOf(AttestationStep.Attested.class);
        return ((AttestationStep.Attested) step).selectors().stream().map(Object::toString).toList();
    }

    private static String reason(AttestationStep step) {
        assertThat(step).isInstanceOf(AttestationStep.Refused.class);
        return ((AttestationStep.Refused) step).reason();
    }

    @Test
    void aGitlabTokenMapsItsPresetAndExplicitClaimsAndAListClaimGivesOneSelectorPerValue() throws Exception {
        issuers.add("gitlab");
        JwtAttestor attestor = attestor("gitlab", Optional.of(Preset.GITLAB_CI),
                List.of(new ClaimMapping("namespace_path", "gitlab:namespace_path", true), new ClaimMapping("groups", "group", true)));

        List<String> selectors = selectors(attest(attestor, issuers.mint("gitlab", clock.instant(), Duration.ofMinutes(5), Map.of(
                "aud", "sigil", "sub", "project_path:platform/deployer:ref_type:branch:ref:main", "project_path", "platform/deployer",
                "ref", "main", "namespace_path", "platform", "groups", List.of("ops", "sre")))));

        assertThat(selectors).contains("jwt:gitlab:project_path:platform/deployer", "jwt:gitlab:ref:main",
                "jwt:gitlab:namespace_path:platform", "jwt:group:ops", "jwt:group:sre");
        assertThat(selectors).noneMatch(s -> s.startsWith("jwt:gitlab:environment:"));
    }

    @Test
    void aClaimThatCannotBeASelectorIsRefusedWithoutQuotingIt() throws Exception {
        issuers.add("ci");
        JwtAttestor attestor = attestor("ci", Optional.empty(), List.of(new ClaimMapping("team", "team", true)));

        String object = reason(attest(attestor, issuers.mint("ci", clock.instant(), Duration.ofMinutes(5),
                Map.of("aud", "sigil", "sub", "a", "team", Map.of("name", "x")))));
        String control = reason(attest(attestor, issuers.mint("ci", clock.instant(), Duration.ofMinutes(5),
                Map.of("aud", "sigil", "sub", "a", "team", "pay\nments"))));

        assertThat(object).contains("claim 'team' is an object or a nested list");
        assertThat(control).contains("control character").doesNotContain("\n");
    }

    @Test
    void aTokenWithoutAKidIsCheckedAgainstEveryKeyOfTheIssuer() throws Exception {
        issuers.add("nokid");
        JwtAttestor attestor = attestor("nokid", Optional.empty(), List.of());
        RSAKey key = (RSAKey) issuers.currentKey("nokid");
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), issuers.standard("nokid", clock.instant(),
                Duration.ofMinutes(5), Map.of("aud", "sigil", "sub", "runner")).build());
        jwt.sign(new RSASSASigner(key));

        assertThat(selectors(attest(attestor, jwt.serialize()))).contains("jwt:sub:runner");
        assertThat(reason(attest(attestor, jwt.serialize()))).contains("was already used to attest (jti '");
    }

    @Test
    void aDiscoveryDocumentNamingAnotherIssuerFailsClosed() throws Exception {
        String url = issuers.add("liar");
        issuers.override("/liar/.well-known/openid-configuration",
                "{\"issuer\":\"https://accounts.example\",\"jwks_uri\":\"" + url + "/jwks\"}");
        JwtAttestor attestor = attestor("liar", Optional.empty(), List.of());

        assertThat(reason(attest(attestor, issuers.mint("liar", clock.instant(), Duration.ofMinutes(5), Map.of("aud", "sigil", "sub", "a")))))
                .contains("names issuer 'https://accounts.example'; it must be exactly '" + url + "'", "fails closed");
    }

    @Test
    void aJwksUriThatIsNotHttpsFailsClosed() throws Exception {
        issuers.add("plain");
        issuers.override("/plain/.well-known/openid-configuration",
                "{\"issuer\":\"" + issuers.url("plain") + "\",\"jwks_uri\":\"http://127.0.0.1:1/jwks\"}");
        JwtAttestor attestor = attestor("plain", Optional.empty(), List.of());

        assertThat(reason(attest(attestor, issuers.mint("plain", clock.instant(), Duration.ofMinutes(5), Map.of("aud", "sigil", "sub", "a")))))
                .contains("http://127.0.0.1:1/jwks is not an https url", "fails closed");
    }

    @Test
    void anOversizedJwksFailsClosed() throws Exception {
        issuers.add("huge");
        issuers.override("/huge/jwks", "{\"keys\":[],\"pad\":\"" + "x".repeat(HttpsFetcher.MAX_BYTES) + "\"}");
        JwtAttestor attestor = attestor("huge", Optional.empty(), List.of());

        assertThat(reason(attest(attestor, issuers.mint("huge", clock.instant(), Duration.ofMinutes(5), Map.of("aud", "sigil", "sub", "a")))))
                .contains("larger than " + HttpsFetcher.MAX_BYTES + " bytes", "fails closed");
    }

    @Test
    void keysAreFetchedAgainOnceTheCacheIsOlderThanItsMaximumAge() throws Exception {
        issuers.add("aging");
        JwtAttestor attestor = attestor("aging", Optional.empty(), List.of());
        Map<String, Object> claims = Map.of("aud", "sigil", "sub", "a");
        selectors(attest(attestor, issuers.mint("aging", clock.instant(), Duration.ofMinutes(5), claims)));
        JWK old = issuers.rotate("aging");
        String oldKeyToken = TestOidcIssuer.sign(old, issuers.standard("aging", clock.instant().plus(IssuerKeys.MAX_AGE),
                Duration.ofMinutes(5), claims).build());

        clock.advance(IssuerKeys.MAX_AGE);

        assertThat(reason(attest(attestor, oldKeyToken))).contains("is signed with key 'aging-1', which is not among the issuer's current keys");
    }

    @Test
    void oversizedOrNonJwtEvidenceIsMalformed() throws Exception {
        issuers.add("x");
        JwtAttestor attestor = attestor("x", Optional.empty(), List.of());

        assertThat(attestor.begin(new byte[JwtAttestor.MAX_TOKEN_BYTES + 1], "a")).isInstanceOf(AttestationStep.Malformed.class);
        assertThat(attestor.begin("not a jwt".getBytes(StandardCharsets.US_ASCII), "a")).isInstanceOf(AttestationStep.Malformed.class);
        JWK other = new RSAKeyGenerator(2048).generate();
        assertThat(reason(attest(attestor, TestOidcIssuer.sign(other, new JWTClaimsSet.Builder().issuer(issuers.url("x")).build()))))
                .isNotBlank();
    }
}
