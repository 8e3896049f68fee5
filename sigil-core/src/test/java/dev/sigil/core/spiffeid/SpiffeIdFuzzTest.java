package dev.sigil.core.spiffeid;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.core.Refusals;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any text either parses as a SPIFFE ID (and a trust domain) that prints back as exactly that text, or
 * is refused with {@link InvalidSpiffeIdException} and a presentable message; nothing else escapes.
 * Inputs that once failed are kept under {@code SpiffeIdFuzzTestInputs/}.
 */
class SpiffeIdFuzzTest {

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyTextIsASpiffeIdOrRefusedCleanly(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            SpiffeId id = SpiffeId.parse(text);
            assertThat(id).hasToString(text);
            assertThat(SpiffeId.parse(id.toString())).isEqualTo(id);
            assertThat(id.trustDomain().id(id.path().isEmpty() ? "" : id.path())).isEqualTo(id);
        } catch (InvalidSpiffeIdException e) {
            Refusals.assertPresentable(e, text);
        }
        try {
            TrustDomain domain = TrustDomain.parse(text);
            assertThat(TrustDomain.parse(domain.idString())).isEqualTo(domain);
        } catch (InvalidSpiffeIdException e) {
            Refusals.assertPresentable(e, text);
        }
    }
}
