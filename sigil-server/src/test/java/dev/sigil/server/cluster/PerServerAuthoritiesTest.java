package dev.sigil.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.authority.AuthorityKind;
import dev.sigil.server.authority.AuthorityRecord;
import dev.sigil.server.authority.AuthorityState;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.Exchanges;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one PostgreSQL database, each with a key manager of its own (its own key directory):
 * each signs with its own authorities only, never holding the other's private keys, and every server's
 * bundle is the union, so what either signs verifies at the other. (The code before this started the
 * second server only if its key manager held the first one's keys.)
 */
class PerServerAuthoritiesTest {
    private static final Duration JOIN_DELAY = Duration.ofSeconds(6);

    @TempDir
    Path dir;

    @Test
    void eachServerSignsWithItsOwnAuthorityAndTheOtherTrustsWhatItSigns() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        try (SigilServer a = start("a", database)) {
            long sequenceAlone = a.authority().bundle().sequence();
            long started = System.nanoTime();
            try (SigilServer b = start("b", database)) {
                assertThat(Duration.ofNanos(System.nanoTime() - started)).as("b published its authorities before signing")
                        .isGreaterThanOrEqualTo(JOIN_DELAY);
                X509Certificate signedByA = ClusterSvids.mint(a, Duration.ofMinutes(10));
                X509Certificate signedByB = ClusterSvids.mint(b, Duration.ofMinutes(10));
                assertThat(signedByB.getIssuerX500Principal()).as("each server signs with its own ca")
                        .isNotEqualTo(signedByA.getIssuerX500Principal());

                // a learned b's authorities before b signed with them: b's first SVID verifies against a's bundle at once
                assertThat(ClusterSvids.verifiesAgainst(signedByB, a.authority().bundle().x509Authorities())).isTrue();
                assertThat(ClusterSvids.verifiesAgainst(signedByA, b.authority().bundle().x509Authorities())).isTrue();
                assertThat(a.authority().bundle().sequence()).as("spiffe_sequence grows with b's authorities").isGreaterThan(sequenceAlone);

                // a JWT-SVID b signed is accepted as a subject token by a's token endpoint, and the other way round
                String byB = b.authority().mintJwtSvid(SpiffeId.parse("spiffe://example.org/web"), Audience.of(a.tokenAudience()),
                        Duration.ofMinutes(5)).token();
                RawHttp.Reply atA = Exchanges.exchange(a, Exchanges.anonymous(a), byB, "https://api.example.com");
                assertThat(atA.status()).as(atA.body()).isEqualTo(200);
                RawHttp.Reply atB = Exchanges.exchange(b, Exchanges.anonymous(b), Exchanges.subjectToken(a, "spiffe://example.org/web"),
                        "https://api.example.com");
                assertThat(atB.status()).as(atB.body()).isEqualTo(200);

                // the journal: one active authority of each kind per server, and neither key directory holds the other's keys
                List<AuthorityRecord> journal = a.authority().journal();
                Set<String> owners = journal.stream().filter(r -> r.state() == AuthorityState.ACTIVE && r.kind() == AuthorityKind.X509)
                        .map(AuthorityRecord::owner).collect(Collectors.toSet());
                assertThat(owners).hasSize(2);
                for (AuthorityRecord record : journal) {
                    String holder = record.owner().equals(Files.readString(dir.resolve("a/server-id")).strip()) ? "a" : "b";
                    String other = holder.equals("a") ? "b" : "a";
                    assertThat(filesMentioning(dir.resolve(holder), record.keyId())).as("key " + record.keyId() + " in its owner " + holder)
                            .isNotEmpty();
                    assertThat(filesMentioning(dir.resolve(other), record.keyId())).as("key " + record.keyId() + " of " + holder + " in " + other)
                            .isEmpty();
                }

                // the one audit chain both append to is checkpointed by whichever leads, each with its own key, and verifies at both
                Eventually.within(Duration.ofSeconds(10), () -> assertThat(checkpointKeys(database)).hasSize(1));
                a.close(); // b takes the one-server jobs over, checkpoints included
                Eventually.within(Duration.ofSeconds(10), () -> assertThat(b.runsOneServerJobs()).isTrue());
                assertThat(Exchanges.exchange(b, Exchanges.anonymous(b), byB, "https://api.example.com").status()).isEqualTo(200);
                Eventually.within(Duration.ofSeconds(10), () -> assertThat(checkpointKeys(database)).hasSize(2));
                RawHttp.Reply verify = RawHttp.unix(b.admin().socketPath(), "POST", "/v1/audit/verify", "application/json", new byte[0]);
                assertThat(verify.status()).as(verify.body()).isEqualTo(200);
                assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(verify.body()).path("intact").asBoolean())
                        .as("checkpoints signed by a verify at b: " + verify.body()).isTrue();
            }
        }
    }

    private static Set<String> checkpointKeys(PostgresServer.Database database) throws Exception {
        try (java.sql.Connection connection = java.sql.DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
             java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet rows = statement.executeQuery("SELECT DISTINCT public_key FROM audit_checkpoints")) {
            Set<String> keys = new java.util.HashSet<>();
            while (rows.next()) {
                keys.add(rows.getString(1));
            }
            return keys;
        }
    }

    private static List<Path> filesMentioning(Path root, String keyId) throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.getFileName().toString().contains(keyId)).toList();
        }
    }

    private SigilServer start(String name, PostgresServer.Database database) throws Exception {
        // no shared key_manager block: each server keeps its keys under its own data directory
        var config = TokenServerConfig.onPostgres(dir, name, database, "ca:\n  join_delay: " + JOIN_DELAY.toSeconds() + "s\n");
        return SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults()
                .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
    }
}
