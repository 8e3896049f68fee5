package dev.sigil.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.admin.Actor;
import dev.sigil.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The session store's own guarantees, on an injected clock. */
class ConsoleSessionsTest {
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-12-01T10:00:00Z"));
    private final ConsoleSessions sessions = new ConsoleSessions(clock);
    private final Actor alice = new Actor.LocalOperator(java.util.Optional.of("alice"), java.util.Optional.empty());

    @Test
    void aCodeIsRedeemedOnceAndOnlyBeforeItExpires() {
        String code = sessions.issue(alice).code();
        String late = sessions.issue(alice).code();
        clock.advance(Duration.ofSeconds(59));
        assertThat(sessions.redeem(code)).get().satisfies(started -> assertThat(started.session().operator()).isEqualTo(alice));
        assertThat(sessions.redeem(code)).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(sessions.redeem(late)).isEmpty();
    }

    @Test
    void mintingPastTheLimitDropsTheOldestCodesInsteadOfFailing() {
        List<String> codes = new ArrayList<>();
        for (int i = 0; i < ConsoleSessions.MAX_ENTRIES + 5; i++) {
            codes.add(sessions.issue(alice).code());
            clock.advance(Duration.ofMillis(1));
        }
        assertThat(sessions.redeem(codes.get(0))).as("the oldest code").isEmpty();
        assertThat(sessions.redeem(codes.get(codes.size() - 1))).as("the newest code").isPresent();
    }

    @Test
    void secretsAreNeitherPrintedNorGuessableFromEachOther() {
        ConsoleSessions.LoginCode code = sessions.issue(alice);
        ConsoleSessions.Started started = sessions.redeem(code.code()).orElseThrow();
        assertThat(code.toString()).doesNotContain(code.code());
        assertThat(started.toString()).doesNotContain(started.secret()).doesNotContain(started.session().csrfToken());
        assertThat(started.secret()).hasSize(43).isNotEqualTo(started.session().csrfToken());
        assertThat(sessions.find(started.secret())).isPresent();
        assertThat(sessions.find(code.code())).as("a code is not a session").isEmpty();
    }
}
