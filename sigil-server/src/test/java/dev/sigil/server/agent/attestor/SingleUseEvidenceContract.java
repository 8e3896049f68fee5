package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.datastore.DatastoreContract;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** What every datastore dialect must guarantee for single-use node evidence (the jwt attestor's replay cache). */
abstract class SingleUseEvidenceContract extends DatastoreContract {
    private static final String KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Test
    void evidenceIsAcceptedOnceEvenByAnotherServerOnTheSameDatabase() {
        SingleUseEvidence one = SingleUseEvidence.create(datastore, clock);
        SingleUseEvidence other = SingleUseEvidence.create(openDatastore(), clock);
        Instant until = clock.instant().plus(Duration.ofMinutes(10));

        assertThat(one.firstUse("jwt", KEY, until)).isTrue();
        assertThat(one.firstUse("jwt", KEY, until)).isFalse();
        assertThat(other.firstUse("jwt", KEY, until)).isFalse();
        assertThat(other.firstUse("jwt", KEY.replace('9', '8'), until)).isTrue();
    }

    @Test
    void ofConcurrentFirstUsesExactlyOneWins() throws Exception {
        List<SingleUseEvidence> servers = List.of(SingleUseEvidence.create(datastore, clock), SingleUseEvidence.create(openDatastore(), clock));
        Instant until = clock.instant().plus(Duration.ofMinutes(10));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Boolean>> attempts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                SingleUseEvidence server = servers.get(i % 2);
                attempts.add(() -> server.firstUse("jwt", KEY, until));
            }
            int wins = 0;
            for (Future<Boolean> attempt : pool.invokeAll(attempts)) {
                wins += attempt.get() ? 1 : 0;
            }
            assertThat(wins).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void evidenceIsRememberedUntilItCouldNoLongerBeAcceptedThenPruned() {
        SingleUseEvidence evidence = SingleUseEvidence.create(datastore, clock);
        evidence.firstUse("jwt", KEY, clock.instant().plus(Duration.ofMinutes(10)));

        clock.advance(Duration.ofMinutes(10));
        assertThat(evidence.pruneExpired()).isZero();
        assertThat(evidence.firstUse("jwt", KEY, clock.instant())).isFalse();

        clock.advance(Duration.ofMillis(1));
        assertThat(evidence.pruneExpired()).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM used_node_tokens")).isZero();
    }

    @Test
    void keysAreBoundedDigests() {
        SingleUseEvidence evidence = SingleUseEvidence.create(datastore, clock);
        assertThatThrownBy(() -> evidence.firstUse("jwt", KEY + "0", clock.instant()))
                .hasMessage("single-use evidence key is 65 characters; expected 1 to 64");
    }
}
