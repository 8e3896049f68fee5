package dev.sigil.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void shortFormsAndIsoFormsParse() {
        assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("PT1H")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("p7d")).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void millisecondsParseAloneAndAfterSeconds() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("1s250ms")).isEqualTo(Duration.ofMillis(1250));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThatThrownBy(() -> Durations.parse("500ms1s")).hasMessageContaining("units must go from large to small");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1s500ms");
    }

    @Test
    void formatReadsBack() {
        for (String text : new String[] {"0s", "45s", "5m", "1h30m", "7d", "1d1h1m1s", "500ms"}) {
            assertThat(Durations.format(Durations.parse(text))).isEqualTo(text);
        }
    }

    @Test
    void unknownUnitIsRefusedQuotingTheValueAndTheValidForms() {
        assertThatThrownBy(() -> Durations.parse("5x"))
                .hasMessage("'5x' is not a duration; use a number with a unit s, m, h or d (30s, 5m, 1h, 7d, 1h30m) or iso-8601 (PT1H)");
    }

    @Test
    void unitsOutOfOrderAndNegativeIsoAreRefused() {
        assertThatThrownBy(() -> Durations.parse("30m1h")).hasMessageContaining("units must go from large to small");
        assertThatThrownBy(() -> Durations.parse("-PT1H")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> Durations.parse("PT-1H")).hasMessageContaining("is negative");
        assertThatThrownBy(() -> Durations.parse("")).hasMessageContaining("duration is empty");
    }
}
