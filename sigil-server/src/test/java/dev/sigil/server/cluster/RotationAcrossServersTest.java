package dev.sigil.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.AuthorityKind;
import dev.sigil.server.authority.AuthorityRecord;
import dev.sigil.server.authority.AuthorityState;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three servers on one PostgreSQL database, each rotating its own X.509 CA on a one-minute lifetime
 * (next CA prepared at 30 s, activated at 50 s): sampled continuously across every server's
 * activation, an X.509-SVID freshly signed by any server verifies against the bundle every other
 * server serves at that moment (the bundle agents receive when they sync), because each CA is in every
 * bundle well before it signs.
 */
@Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class RotationAcrossServersTest {
    @TempDir
    Path dir;

    @Test
    void everySvidAnyServerSignsVerifiesAgainstEveryServersBundleAcrossActivations() throws Exception {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        List<SigilServer> servers = new ArrayList<>();
        try {
            for (String name : List.of("a", "b", "c")) {
                servers.add(SigilServer.start(TokenServerConfig.onPostgres(dir, name, database, """
                        default_x509_svid_ttl: 20s
                        ca:
                          ttl: 1m
                          join_delay: 6s
                        """), Clock.systemUTC(), SigilServer.Options.defaults()
                        .withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none()))));
            }
            Set<String> firstCas = activeCas(servers.get(0));
            assertThat(firstCas).hasSize(3);
            // every poll until all three activated a new ca is one sample; a sample that does not verify is kept, not retried
            List<String> unverified = new ArrayList<>();
            AtomicInteger samples = new AtomicInteger();
            Eventually.within(Duration.ofSeconds(100), () -> {
                for (SigilServer signer : servers) {
                    X509Certificate svid = ClusterSvids.mint(signer, Duration.ofSeconds(20));
                    for (SigilServer relying : servers) {
                        if (!ClusterSvids.verifiesAgainst(svid, relying.authority().bundle().x509Authorities())) {
                            unverified.add("an svid signed by " + signer.spiffeId() + " (issuer " + svid.getIssuerX500Principal()
                                    + ") against the bundle " + relying.spiffeId() + " serves, sample " + samples.get());
                        }
                    }
                }
                samples.incrementAndGet();
                assertThat(activeCas(servers.get(0))).doesNotContainAnyElementsOf(firstCas);
            });
            assertThat(unverified).as("svids that did not verify against another server's bundle").isEmpty();
            assertThat(activeCas(servers.get(0))).as("every server activated a new ca").doesNotContainAnyElementsOf(firstCas).hasSize(3);
            assertThat(samples.get()).isGreaterThan(20);
        } finally {
            for (SigilServer server : servers) {
                server.close();
            }
        }
    }

    private static Set<String> activeCas(SigilServer server) {
        return server.authority().journal().stream()
                .filter(r -> r.kind() == AuthorityKind.X509 && r.state() == AuthorityState.ACTIVE)
                .map(AuthorityRecord::authorityId).collect(Collectors.toSet());
    }
}
