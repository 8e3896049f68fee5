package dev.sigil.core.selector;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.core.Refusals;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any text either parses as a selector whose {@code type:value} form parses back to the same
 * selector, or is refused with {@link InvalidSelectorException} and a presentable message.
 * Inputs that once failed are kept under {@code SelectorFuzzTestInputs/}.
 */
class SelectorFuzzTest {

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyTextIsASelectorOrRefusedCleanly(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            Selector selector = Selector.parse(text);
            assertThat(selector).hasToString(text);
            assertThat(Selector.parse(selector.toString())).isEqualTo(selector).isEqualByComparingTo(selector);
        } catch (InvalidSelectorException e) {
            Refusals.assertPresentable(e, text);
        }
    }
}
