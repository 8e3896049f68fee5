package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
    void timeOrderedIdsSortByIssueTimeAndAreDistinctWithinOneMillisecond() {
        Instant first = Instant.parse("2026-12-06T15:00:00.000Z");
        List<String> issued = new ArrayList<>();
        for (int ms = 0; ms < 40; ms++) {
            for (int i = 0; i < 50; i++) {
                issued.add(LeaseId.timeOrdered(first.plusMillis(ms * 997L)).value());
            }
        }
        assertThat(new HashSet<>(issued)).hasSize(issued.size());
        // sorted as SQLite and PostgreSQL (C collation) sort text, each millisecond's ids come before the next's
        List<String> sorted = issued.stream().sorted().toList();
        assertThat(sorted.stream().map(id -> id.substring(0, LeaseId.TIME_CHARS)).toList())
                .isEqualTo(issued.stream().map(id -> id.substring(0, LeaseId.TIME_CHARS)).toList());
        assertThat(issued).allSatisfy(id -> assertThat(LeaseId.parse(id).value()).isEqualTo(id));
    }

    @Test
    void theRandomPartOfATimeOrderedIdUsesEveryCharacterInEveryPosition() {
        Instant now = Instant.parse("2026-12-06T15:00:00.000Z");
        int[][] seen = new int[LeaseId.LENGTH][ALPHABET.length()];
        for (int i = 0; i < 4_000; i++) {
            String id = LeaseId.timeOrdered(now).value();
            for (int position = LeaseId.TIME_CHARS; position < id.length(); position++) {
                seen[position][ALPHABET.indexOf(id.charAt(position))]++;
            }
        }
        for (int position = LeaseId.TIME_CHARS; position < LeaseId.LENGTH; position++) {
            for (int c = 0; c < ALPHABET.length(); c++) {
                assertThat(seen[position][c]).as("'%s' at position %d", ALPHABET.charAt(c), position).isBetween(60, 200);
            }
        }
    }

    @Test
    void aTimeOrderedIdRefusesATimeItCannotHold() {
        assertThatThrownBy(() -> LeaseId.timeOrdered(Instant.parse("1969-12-31T23:59:59Z")))
                .hasMessage("lease issue time 1969-12-31T23:59:59Z is outside 1970 to 3084");
    }

    @Test
    void aMalformedIdIsRefusedWithWhatWasExpected() {
        assertThatThrownBy(() -> LeaseId.parse("ABC")).hasMessage("lease id 'ABC' is malformed; expected 24 characters of a-z and 2-7");
    }
}
