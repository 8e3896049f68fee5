package dev.sigil.server.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.testkit.Refusals;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any token endpoint body (ASCII, as the handler admits it) either parses as a form and an exchange
 * request, or is refused with an {@link OAuthException} that is a 4xx with a presentable description:
 * never another exception, which the endpoint would answer with a 5xx. Inputs that once failed are kept
 * under {@code TokenRequestFuzzTestInputs/}.
 */
class TokenRequestFuzzTest {

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyBodyIsAnExchangeRequestOrRefusedCleanly(byte[] input) {
        String body = ascii(input);
        try {
            Form form = Form.parse(body);
            ExchangeRequest request = ExchangeRequest.parse(form);
            assertThat(request.audience()).isNotBlank().hasSizeLessThanOrEqualTo(ExchangeRequest.MAX_TARGET);
            assertThat(request.scopes()).hasSizeLessThanOrEqualTo(ExchangeRequest.MAX_SCOPES).doesNotHaveDuplicates();
        } catch (OAuthException e) {
            assertThat(e.status()).isBetween(400, 499);
            assertThat(e.json()).startsWith("{\"error\":");
            Refusals.assertPresentable(e);
        }
    }

    /** What {@code TokenHandler} lets through: bytes that are ASCII (it refuses the others). */
    private static String ascii(byte[] input) {
        byte[] bytes = input.clone();
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] &= 0x7f;
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
