package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import dev.sigil.testkit.Refusals;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any presented token either verifies as a JWT-SVID of the trust domain, or is refused with an
 * {@link OAuthException} {@code invalid_request} whose description is presentable. To get past the
 * signature, most inputs are not tokens but the header and claims JSON of one, signed here with the
 * bundle's key, so the fuzzer explores what a holder of a real key could send. Input layout (text):
 * <ul>
 *   <li>{@code c<claims json>}: claims under a valid ES256 header naming the bundle key;</li>
 *   <li>{@code h<header json>\n<claims json>}: both chosen, signed with the bundle key;</li>
 *   <li>anything else: the token itself.</li>
 * </ul>
 * The clock stands at 2026-01-01T00:00:00Z (epoch second 1767225600). Inputs that once failed are kept
 * under {@code JwtSvidVerifierFuzzTestInputs/}.
 */
class JwtSvidVerifierFuzzTest {
    private static final String AUD = "https://sigil.example.org/oauth2/token";
    private static final String HEADER = "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
    private static final ECKey KEY = key();
    private static final JwtSvidVerifier VERIFIER = new JwtSvidVerifier(() -> new SpiffeBundle(TrustDomain.parse("example.org"),
            List.of(), List.of(new JwtAuthority("k1", publicKey())), 1, Optional.empty()), MutableClock.atEpochOfTests());

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyTokenVerifiesOrIsRefusedCleanly(byte[] input) throws Exception {
        String text = new String(input, StandardCharsets.UTF_8);
        String token;
        if (text.startsWith("c")) {
            token = signed(HEADER, text.substring(1));
        } else if (text.startsWith("h") && text.indexOf('\n') > 0) {
            token = signed(text.substring(1, text.indexOf('\n')), text.substring(text.indexOf('\n') + 1));
        } else {
            token = text;
        }
        try {
            JwtSvidVerifier.Verified verified = VERIFIER.verify(token, "subject_token", Set.of(AUD));
            assertThat(verified.subject().trustDomain().name()).isEqualTo("example.org");
            assertThat(verified.claims().getAudience()).contains(AUD);
            assertThat(verified.claims().getExpirationTime()).isNotNull();
        } catch (OAuthException e) {
            assertThat(e.error()).isEqualTo("invalid_request");
            assertThat(e.status()).isEqualTo(400);
            Refusals.assertPresentable(e);
        }
    }

    private static String signed(String header, String claims) throws Exception {
        String input = BASE64URL.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + BASE64URL.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        String signature = new ECDSASigner(KEY).sign(new JWSHeader(JWSAlgorithm.ES256), input.getBytes(StandardCharsets.US_ASCII)).toString();
        return dev.sigil.core.crypto.JwsCanonical.withLowS(input + "." + signature, KEY.toECPublicKey().getParams().getOrder());
    }

    private static ECKey key() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.security.interfaces.ECPublicKey publicKey() {
        try {
            return KEY.toECPublicKey();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
