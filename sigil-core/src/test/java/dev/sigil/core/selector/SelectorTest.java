package dev.sigil.core.selector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SelectorTest {

    @Test
    void typeIsTheTextBeforeTheFirstColonAndTheValueKeepsLaterColons() {
        Selector selector = Selector.parse("unix:uid:1000");

        assertThat(selector.type()).isEqualTo("unix");
        assertThat(selector.value()).isEqualTo("uid:1000");
    }

    @Test
    void toStringRoundTripsThroughParse() {
        Selector selector = Selector.of("k8s", "pod-label:app:web");

        assertThat(selector.toString()).isEqualTo("k8s:pod-label:app:web");
        assertThat(Selector.parse(selector.toString())).isEqualTo(selector);
    }

    @Test
    void textWithoutColonIsRefusedWithTheExpectedForm() {
        assertThatThrownBy(() -> Selector.parse("unix"))
                .isInstanceOf(InvalidSelectorException.class)
                .hasMessageContaining("'unix'")
                .hasMessageContaining("type:value");
    }

    @Test
    void emptyTypeOrValueIsRefused() {
        assertThatThrownBy(() -> Selector.parse(":uid:1")).hasMessageContaining("empty type");
        assertThatThrownBy(() -> Selector.parse("unix:")).hasMessageContaining("empty value");
        assertThatThrownBy(() -> Selector.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Selector.parse(null)).isInstanceOf(InvalidSelectorException.class);
    }

    @Test
    void upperCaseOrPunctuationInTheTypeIsRefused() {
        assertThatThrownBy(() -> Selector.parse("Unix:uid:1"))
                .hasMessageContaining("'Unix'")
                .hasMessageContaining("'U'");
        assertThatThrownBy(() -> Selector.parse("un.ix:uid:1")).hasMessageContaining("'.'");
        assertThat(Selector.parse("k8s_psat-2:x").type()).isEqualTo("k8s_psat-2");
    }

    @Test
    void controlCharactersInTheValueAreRefused() {
        assertThatThrownBy(() -> Selector.of("unix", "uid:1\nunix:uid:0"))
                .isInstanceOf(InvalidSelectorException.class)
                .hasMessageContaining("control character");
    }

    @Test
    void overlongTypeOrValueIsRefused() {
        assertThatThrownBy(() -> Selector.of("t".repeat(65), "v")).hasMessageContaining("at most 64");
        assertThatThrownBy(() -> Selector.of("t", "é".repeat(513))).hasMessageContaining("1026 bytes");
        assertThat(Selector.of("t", "v".repeat(1024)).value()).hasSize(1024);
    }

    @Test
    void selectorsSortByTypeThenValue() {
        List<Selector> selectors = new ArrayList<>(List.of(
                Selector.parse("unix:uid:1"), Selector.parse("docker:image:x"), Selector.parse("unix:gid:1")));

        selectors.sort(null);

        assertThat(selectors).extracting(Selector::toString)
                .containsExactly("docker:image:x", "unix:gid:1", "unix:uid:1");
    }
}
