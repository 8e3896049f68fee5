package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LeaseIdTest {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    @Test
    void freshIdsAreWellFormedDistinctAndUseEveryCharacterInEveryPosition() {
        int draws = 4_000;
        Set<String> ids = new HashSet<>();
        int[][] seen = new int[LeaseId.LENGTH][ALPHABET.length()];
        for (int i = 0; i < draws; i++) {
            String id = LeaseId.random().value();
            assertThat(LeaseId.parse(id).value()).isEqualTo(id);
            ids.add(id);
            for (int position = 0; position < id.length(); position++) {
                seen[position][ALPHABET.indexOf(id.charAt(position))]++;
            }
        }
        assertThat(ids).hasSize(draws);
        // 125 expected per character and position; a stuck or biased bit would leave some near 0 or 250
        for (int position = 0; position < LeaseId.LENGTH; position++) {
            for (int c = 0; c < ALPHABET.length(); c++) {
                assertThat(seen[position][c]).as("'%s' at position %d", ALPHABET.charAt(c), position).isBetween(60, 200);
            }
        }
    }

    @Test
    void aMalformedIdIsRefusedWithWhatWasExpected() {
        assertThatThrownBy(() -> LeaseId.parse("ABC")).hasMessage("lease id 'ABC' is malformed; expected 24 characters of a-z and 2-7");
    }
}
