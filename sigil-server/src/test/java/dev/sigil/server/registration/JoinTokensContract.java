package dev.sigil.server.registration;

import static dev.sigil.server.registration.EntryStoreContract.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.registration.RegistrationException.Reason;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every datastore dialect must guarantee for join tokens. */
abstract class JoinTokensContract extends DatastoreContract {
    private static final SpiffeId NODE = SpiffeId.parse("spiffe://example.org/node/42");

    private AuditTrail audit;
    private JoinTokens tokens;

    @BeforeEach
    void createTokens() {
        audit = AuditTrail.create(datastore, clock);
        tokens = JoinTokens.create(datastore, audit, clock);
    }

    @Test
    void generatedTokenAdmitsOneNodeOnce() {
        IssuedJoinToken token = tokens.generate(Optional.of(NODE), Duration.ofMinutes(10), "alice");

        JoinTokenConsumption first = tokens.consume(token.revealSecretValue(), "agent 10.0.0.7");
        JoinTokenConsumption second = tokens.consume(token.revealSecretValue(), "agent 10.0.0.8");

        assertThat(first).isEqualTo(new JoinTokenConsumption.Consumed(token.id(), Optional.of(NODE), token.expiresAt()));
        assertThat(second).isEqualTo(new JoinTokenConsumption.Unknown());
    }

    @Test
    void expiredJoinTokenIsRefused() {
        IssuedJoinToken token = tokens.generate(Optional.empty(), Duration.ofMinutes(10), "alice");
        clock.advance(Duration.ofMinutes(10));

        assertThat(tokens.consume(token.revealSecretValue(), "agent"))
                .isEqualTo(new JoinTokenConsumption.Expired(token.id(), token.expiresAt()));
        assertThat(tokens.consume(token.revealSecretValue(), "agent")).isEqualTo(new JoinTokenConsumption.Unknown());
    }

    @Test
    void tokenIsUsableUntilJustBeforeItsExpiry() {
        IssuedJoinToken token = tokens.generate(Optional.empty(), Duration.ofMinutes(10), "alice");
        clock.advance(Duration.ofMinutes(10).minusMillis(1));

        assertThat(tokens.consume(token.revealSecretValue(), "agent")).isInstanceOf(JoinTokenConsumption.Consumed.class);
    }

    @Test
    void tokenIsStoredOnlyAsItsHash() {
        IssuedJoinToken token = tokens.generate(Optional.of(NODE), Duration.ofMinutes(10), "alice");

        List<String> stored = datastore.read(connection -> {
            List<String> values = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("SELECT * FROM join_tokens");
                    ResultSet rows = select.executeQuery()) {
                ResultSetMetaData meta = rows.getMetaData();
                while (rows.next()) {
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        values.add(String.valueOf(rows.getString(i)));
                    }
                }
            }
            return values;
        });

        assertThat(stored).contains(SqlJoinTokens.sha256Hex(token.revealSecretValue()));
        assertThat(stored).noneMatch(value -> value.contains(token.revealSecretValue()));
        assertThat(audit.query(AuditQuery.all())).noneMatch(r -> r.details().contains(token.revealSecretValue()));
    }

    @Test
    void tokenValuesAreLongRandomAndUrlSafe() {
        String one = tokens.generate(Optional.empty(), Duration.ofMinutes(1), "alice").revealSecretValue();
        String two = tokens.generate(Optional.empty(), Duration.ofMinutes(1), "alice").revealSecretValue();

        assertThat(one).isNotEqualTo(two).matches("sigil_jt_[A-Za-z0-9_-]{43}");
    }

    @Test
    void tokenToStringNeverShowsTheSecret() {
        IssuedJoinToken token = tokens.generate(Optional.of(NODE), Duration.ofMinutes(10), "alice");

        assertThat(token.toString()).doesNotContain(token.revealSecretValue()).contains(token.id()).contains(NODE.toString());
    }

    @Test
    void unknownTokenIsRefusedAndEveryAttemptIsAudited() {
        IssuedJoinToken token = tokens.generate(Optional.of(NODE), Duration.ofMinutes(10), "alice");
        tokens.consume("sigil_jt_guessed", "agent 10.0.0.9");
        tokens.consume(token.revealSecretValue(), "agent 10.0.0.7");

        List<AuditRecord> records = audit.query(AuditQuery.all().byActionPrefix("jointoken."));

        assertThat(records).extracting(AuditRecord::action)
                .containsExactly("jointoken.create", "jointoken.consume", "jointoken.consume");
        assertThat(records).extracting(AuditRecord::outcome)
                .containsExactly(AuditOutcome.SUCCESS, AuditOutcome.DENIED, AuditOutcome.SUCCESS);
        assertThat(records.get(2).subject()).isEqualTo("jointoken:" + token.id());
        assertThat(records.get(2).actor()).isEqualTo("agent 10.0.0.7");
    }

    @Test
    void twoServersRacingForOneTokenAdmitOneNode() throws Exception {
        Datastore second = openDatastore();
        List<JoinTokens> servers = List.of(tokens, JoinTokens.create(second, AuditTrail.create(second, clock), clock));
        IssuedJoinToken token = tokens.generate(Optional.of(NODE), Duration.ofMinutes(10), "alice");
        int attempts = 6;
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<JoinTokenConsumption>> results = new ArrayList<>();
        try {
            for (int i = 0; i < attempts; i++) {
                JoinTokens server = servers.get(i % 2);
                String agent = "agent-" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    return server.consume(token.revealSecretValue(), agent);
                }));
            }
            start.countDown();
            List<JoinTokenConsumption> outcomes = new ArrayList<>();
            for (Future<JoinTokenConsumption> result : results) {
                outcomes.add(result.get());
            }

            assertThat(outcomes).filteredOn(JoinTokenConsumption.Consumed.class::isInstance).hasSize(1);
            assertThat(outcomes).filteredOn(JoinTokenConsumption.Unknown.class::isInstance).hasSize(attempts - 1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void pruningRemovesOnlyExpiredTokens() {
        IssuedJoinToken shortLived = tokens.generate(Optional.empty(), Duration.ofMinutes(1), "alice");
        IssuedJoinToken longLived = tokens.generate(Optional.empty(), Duration.ofHours(1), "alice");
        clock.advance(Duration.ofMinutes(2));

        assertThat(tokens.pruneExpired("janitor")).isEqualTo(1);

        assertThat(tokens.consume(shortLived.revealSecretValue(), "agent")).isEqualTo(new JoinTokenConsumption.Unknown());
        assertThat(tokens.consume(longLived.revealSecretValue(), "agent")).isInstanceOf(JoinTokenConsumption.Consumed.class);
        assertThat(tokens.pruneExpired("janitor")).isZero();
    }

    @Test
    void malformedGenerationRequestsAreRejectedAndChangeNothing() {
        assertRejected(() -> tokens.generate(Optional.empty(), Duration.ZERO, "alice"), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("ttl");
        assertRejected(() -> tokens.generate(Optional.empty(), JoinTokens.MAX_TTL.plusSeconds(1), "alice"), Reason.INVALID_ARGUMENT);
        assertRejected(() -> tokens.generate(Optional.empty(), Duration.ofMinutes(1), ""), Reason.INVALID_ARGUMENT);

        assertThat(count("SELECT COUNT(*) FROM join_tokens")).isZero();
        assertThat(count("SELECT COUNT(*) FROM audit_records")).isZero();
    }
}
