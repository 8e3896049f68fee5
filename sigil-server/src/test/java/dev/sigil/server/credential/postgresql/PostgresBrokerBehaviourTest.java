package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.LiveSession;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a holder of a PostgreSQL credential can and cannot do, before and after revocation and expiry. */
class PostgresBrokerBehaviourTest {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/report-job");
    private static final SpiffeId CALLER = SpiffeId.parse("spiffe://sigil.test/ci/pipeline");

    private PostgresBrokerFixture fixture;
    private PostgresBroker broker;

    @BeforeEach
    void start() throws SQLException {
        fixture = PostgresBrokerFixture.create();
        broker = fixture.broker(Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    void holderCanReadWhatTheGroupGrantsAndNothingElse() throws SQLException {
        Granted granted = broker.grant(lease(HOLDER, "reports", Duration.ofMinutes(5)));

        try (Connection connection = login(granted); Statement statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).isEqualTo(42);
            }
            assertThatThrownBy(() -> statement.execute("INSERT INTO visible VALUES (1)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> statement.executeQuery("SELECT * FROM hidden"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> statement.execute("CREATE ROLE escalated"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        assertThat(granted.details()).containsEntry("database", fixture.database.name())
                .containsEntry("role", granted.secret().revealToHolder().get("username"));
        assertThat(granted.secret().revealToHolder().get("url")).isEqualTo(fixture.database.jdbcUrl());
    }

    @Test
    void revokeTerminatesTheLiveSessionAndRefusesNewLogins() throws SQLException {
        LeaseGrant lease = lease(HOLDER, "reports", Duration.ofMinutes(5));
        Granted granted = broker.grant(lease);
        Map<String, String> secret = granted.secret().revealToHolder();
        try (LiveSession live = LiveSession.open(secret.get("url"), secret.get("username"), secret.get("password"))) {
            assertThat(live.alive()).isTrue();

            broker.revoke(lease);

            assertThat(live.ended()).as("the session is terminated (57P01), not merely stripped of privileges (42501)")
                    .contains(LiveSession.TERMINATED);
        }
        assertThatThrownBy(() -> login(granted)).isInstanceOf(SQLException.class);
        assertThat(roleExists(granted)).isFalse();
    }

    @Test
    void expiredCredentialIsRefusedWithoutAnyCommand() throws Exception {
        Instant now = Instant.now();
        LeaseGrant lease = new LeaseGrant(LeaseId.random(), "postgresql", HOLDER, Optional.empty(), "reports", now,
                now.plusSeconds(2), List.of(), Decision.Obligations.none(), Map.of());
        Granted granted = broker.grant(lease);
        try (Connection ignored = login(granted)) {
            // works before expiry
        }

        Thread.sleep(Math.max(0, Duration.between(Instant.now(), lease.expiresAt()).toMillis()) + 500);

        assertThatThrownBy(() -> login(granted)).isInstanceOf(SQLException.class);
        assertThat(roleExists(granted)).as("only revocation drops the role").isTrue();
        broker.revoke(lease);
    }

    @Test
    void renewalMovesTheExpiryInTheDatabase() throws SQLException {
        LeaseGrant lease = lease(HOLDER, "reports", Duration.ofMinutes(5));
        Granted granted = broker.grant(lease);
        Instant later = lease.expiresAt().plus(Duration.ofHours(1));

        broker.renew(lease, later);

        assertThat(validUntil(granted)).isEqualTo(later);
        broker.revoke(lease);
        assertThatThrownBy(() -> broker.renew(lease, later.plusSeconds(60))).isInstanceOf(BrokerException.Rejected.class)
                .hasMessageContaining(lease.id().value());
    }

    @Test
    void onlyAScramVerifierOfThePasswordReachesTheDatabase() throws SQLException {
        Granted granted = broker.grant(lease(HOLDER, "reports", Duration.ofMinutes(5)));
        String password = granted.secret().revealToHolder().get("password");

        String stored = queryRole("SELECT rolpassword FROM pg_authid WHERE rolname = ?", granted.details().get("role")).orElseThrow();

        assertThat(password).matches("[A-Za-z0-9_-]{43}");
        assertThat(stored).startsWith("SCRAM-SHA-256$" + PostgresBroker.SCRAM_ITERATIONS + ":").doesNotContain(password);
        assertThat(granted.secret().leakKey()).isEqualTo(password);
    }

    @Test
    void everyRoleHasItsOwnRandomSaltAndLogsInWithItsPassword() throws SQLException {
        Granted first = broker.grant(lease(HOLDER, "reports", Duration.ofMinutes(5)));
        Granted second = broker.grant(lease(HOLDER, "reports", Duration.ofMinutes(5)));

        java.util.List<String> salts = new java.util.ArrayList<>();
        for (Granted granted : List.of(first, second)) {
            String stored = queryRole("SELECT rolpassword FROM pg_authid WHERE rolname = ?", granted.details().get("role")).orElseThrow();
            java.util.regex.Matcher verifier = java.util.regex.Pattern.compile("SCRAM-SHA-256\\$(\\d+):([A-Za-z0-9+/=]+)\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+")
                    .matcher(stored);
            assertThat(verifier.matches()).as(stored).isTrue();
            assertThat(Integer.parseInt(verifier.group(1))).isEqualTo(PostgresBroker.SCRAM_ITERATIONS);
            assertThat(java.util.Base64.getDecoder().decode(verifier.group(2))).hasSize(16);
            salts.add(verifier.group(2));
            try (Connection ignored = login(granted)) {
                assertThat(roleExists(granted)).isTrue();
            }
        }
        assertThat(salts.get(0)).isNotEqualTo(salts.get(1));
    }

    @Test
    void roleCommentCarriesHolderLeaseTaskAndDelegation() throws Exception {
        LeaseGrant lease = new LeaseGrant(LeaseId.random(), "postgresql", HOLDER, Optional.of("t-nightly-report"), "reports",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), Instant.now().plusSeconds(300), List.of(CALLER),
                Decision.Obligations.none(), Map.of());
        Granted granted = broker.grant(lease);

        JsonNode comment = new ObjectMapper().readTree(comment(granted));

        assertThat(comment.get("holder").asText()).isEqualTo(HOLDER.toString());
        assertThat(comment.get("sigil_lease").asText()).isEqualTo(lease.id().value());
        assertThat(comment.get("task").asText()).isEqualTo("t-nightly-report");
        assertThat(comment.get("delegation").get(0).asText()).isEqualTo(CALLER.toString());
        assertThat(comment.get("resource").asText()).isEqualTo("reports");
    }

    @Test
    void aTaskWithQuotesAndBackslashesIsStoredVerbatim() throws Exception {
        String task = "it's a \\'; DROP ROLE postgres; -- \"task\"";
        LeaseGrant lease = new LeaseGrant(LeaseId.random(), "postgresql", HOLDER, Optional.of(task), "reports",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), Instant.now().plusSeconds(300), List.of(),
                Decision.Obligations.none(), Map.of());

        Granted granted = broker.grant(lease);

        assertThat(new ObjectMapper().readTree(comment(granted)).get("task").asText()).isEqualTo(task);
    }

    @Test
    void aVeryLongSpiffeIdStillYieldsAWorkingRoleNameWithin63Bytes() throws SQLException {
        SpiffeId longHolder = SpiffeId.parse("spiffe://sigil.test/" + "Very-Long.Segment/".repeat(40) + "final-Worker.v2");
        LeaseGrant lease = lease(longHolder, "reports", Duration.ofMinutes(5));

        Granted granted = broker.grant(lease);

        String role = granted.details().get("role");
        assertThat(role.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
        assertThat(role).matches("[a-z0-9_]+").startsWith(fixture.prefix).endsWith("final_worker_v2_" + lease.id().value());
        try (Connection ignored = login(granted)) {
            assertThat(roleExists(granted)).isTrue();
        }
    }

    @Test
    void revokeFindsTheRoleFromTheLeaseIdAlone() throws SQLException {
        LeaseGrant lease = lease(HOLDER, "reports", Duration.ofMinutes(5));
        Granted granted = broker.grant(lease);
        LeaseGrant sameIdOtherwiseUnknown = new LeaseGrant(lease.id(), "postgresql", CALLER, Optional.empty(), "scratch",
                lease.issuedAt(), lease.expiresAt(), List.of(), Decision.Obligations.none(), Map.of());

        broker.revoke(sameIdOtherwiseUnknown);

        assertThat(roleExists(granted)).isFalse();
        assertThat(broker.granted()).hasValueSatisfying(ids -> assertThat(ids).doesNotContain(lease.id()));
    }

    @Test
    void concurrentRevocationsOfOneLeaseAllSucceed() throws Exception {
        LeaseGrant lease = lease(HOLDER, "reports", Duration.ofMinutes(5));
        Granted granted = broker.grant(lease);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<?>> revocations = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                revocations.add(threads.submit(() -> broker.revoke(lease)));
            }
            for (java.util.concurrent.Future<?> revocation : revocations) {
                revocation.get();
            }
        } finally {
            threads.shutdown();
        }
        assertThat(roleExists(granted)).isFalse();
    }

    @Test
    void rolesWithoutThePrefixAreNeitherListedNorTouched() throws SQLException {
        LeaseId lease = LeaseId.random();
        String foreign = "someone_else_" + lease.value();
        fixture.superuser("CREATE ROLE " + foreign + " LOGIN");
        try {
            broker.revoke(new LeaseGrant(lease, "postgresql", HOLDER, Optional.empty(), "reports", Instant.now(),
                    Instant.now().plusSeconds(60), List.of(), Decision.Obligations.none(), Map.of()));

            assertThat(broker.granted()).hasValueSatisfying(ids -> assertThat(ids).doesNotContain(lease));
            assertThat(roleExists(foreign)).isTrue();
        } finally {
            fixture.superuser("DROP ROLE " + foreign);
        }
    }

    @Test
    void revokingARoleThatOwnsATableReassignsItAndDropsTheRole() throws SQLException {
        LeaseGrant lease = lease(HOLDER, "scratch", Duration.ofMinutes(5));
        Granted granted = broker.grant(lease);
        try (Connection connection = login(granted); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE scratch_output (line TEXT)");
        }

        broker.revoke(lease);

        assertThat(roleExists(granted)).isFalse();
        try (Connection connection = fixture.superuserConnection(); Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT tableowner FROM pg_tables WHERE tablename = 'scratch_output'")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(1)).isEqualTo(fixture.admin);
        }
    }

    @Test
    void aFailedGrantLeavesNothingBehind() throws SQLException {
        LeaseGrant lease = lease(HOLDER, "broken", Duration.ofMinutes(5));

        assertThatThrownBy(() -> broker.grant(lease)).isInstanceOf(BrokerException.Unavailable.class)
                .hasMessageContaining(lease.id().value());

        assertThat(broker.granted()).hasValueSatisfying(ids -> assertThat(ids).doesNotContain(lease.id()));
    }

    @Test
    void aResourceThatIsNotConfiguredIsRejectedNamingTheKnownOnes() {
        assertThatThrownBy(() -> broker.grant(lease(HOLDER, "payroll", Duration.ofMinutes(5))))
                .isInstanceOf(BrokerException.Rejected.class)
                .hasMessageContaining("'payroll'").hasMessageContaining("reports").hasMessageContaining("scratch");
        assertThatThrownBy(() -> broker.check("reports", Map.of("ssh_public_key", "x")))
                .isInstanceOf(BrokerException.Rejected.class).hasMessageContaining("ssh_public_key");
    }

    @Test
    void theAdminPasswordNeverAppearsInErrorsOrToString() {
        PostgresBrokerSettings wrong = new PostgresBrokerSettings(fixture.database.jdbcUrl(), fixture.admin,
                "not-the-password-" + fixture.adminPassword, fixture.prefix, fixture.resources());
        try (PostgresBroker misconfigured = PostgresBroker.create(wrong, Clock.systemUTC())) {
            assertThatThrownBy(() -> misconfigured.grant(lease(HOLDER, "reports", Duration.ofMinutes(5))))
                    .isInstanceOf(BrokerException.Unavailable.class)
                    .satisfies(e -> assertThat(stackTraceOf(e)).doesNotContain(wrong.adminPassword()));
            assertThat(misconfigured.toString()).doesNotContain(wrong.adminPassword());
        }
        assertThat(wrong.toString()).doesNotContain(wrong.adminPassword()).contains("<redacted>");
        assertThat(broker.toString()).doesNotContain(fixture.adminPassword);
    }

    @Test
    void aReportedLeakIsTrimmedAndBlankReportsMatchNothing() {
        assertThat(broker.leakKey("  s3cret-Pass_word \n")).contains("s3cret-Pass_word");
        assertThat(broker.leakKey(" \t\n")).isEmpty();
    }

    private LeaseGrant lease(SpiffeId holder, String resource, Duration ttl) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return new LeaseGrant(LeaseId.random(), "postgresql", holder, Optional.of("t-test"), resource, now, now.plus(ttl),
                List.of(), Decision.Obligations.none(), Map.of());
    }

    private static Connection login(Granted granted) throws SQLException {
        Map<String, String> secret = granted.secret().revealToHolder();
        return DriverManager.getConnection(secret.get("url"), secret.get("username"), secret.get("password"));
    }

    private boolean roleExists(Granted granted) throws SQLException {
        return roleExists(granted.details().get("role"));
    }

    private boolean roleExists(String role) throws SQLException {
        return queryRole("SELECT 1 FROM pg_roles WHERE rolname = ?", role).isPresent();
    }

    private String comment(Granted granted) throws SQLException {
        return queryRole("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = ?", granted.details().get("role"))
                .orElseThrow();
    }

    private Instant validUntil(Granted granted) throws SQLException {
        try (Connection connection = fixture.superuserConnection();
                PreparedStatement statement = connection.prepareStatement("SELECT rolvaliduntil FROM pg_roles WHERE rolname = ?")) {
            statement.setString(1, granted.details().get("role"));
            try (ResultSet rows = statement.executeQuery()) {
                assertThat(rows.next()).isTrue();
                return rows.getTimestamp(1).toInstant();
            }
        }
    }

    private Optional<String> queryRole(String sql, String role) throws SQLException {
        try (Connection connection = fixture.superuserConnection(); PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, role);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
            }
        }
    }

    private static String stackTraceOf(Throwable e) {
        java.io.StringWriter text = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(text));
        return text.toString();
    }
}
