package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.policy.Decision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil lease ...} and {@code sigil leak report} against a running server with an in-memory broker. */
class LeaseCommandTest {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/job");

    @TempDir
    Path dir;
    private SigilServer server;
    private final Map<LeaseId, String> backend = new ConcurrentHashMap<>();

    /** Grants a random password per lease into {@link #backend}. */
    private final class MemoryBroker implements Broker {
        @Override
        public String type() {
            return "memory";
        }

        @Override
        public void check(String resource, Map<String, String> parameters) {
        }

        @Override
        public Granted grant(LeaseGrant lease) {
            String password = UUID.randomUUID().toString();
            backend.put(lease.id(), password);
            return new Granted(new CredentialSecret(Map.of("password", password), password), Map.of("user", "u-" + lease.id()));
        }

        @Override
        public void renew(LeaseGrant lease, Instant newExpiry) {
        }

        @Override
        public void revoke(LeaseGrant lease) {
            backend.remove(lease.id());
        }

        @Override
        public Optional<Set<LeaseId>> granted() {
            return Optional.of(Set.copyOf(backend.keySet()));
        }

        @Override
        public Optional<String> leakKey(String reported) {
            return Optional.of(reported.strip());
        }
    }

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, "data_dir: %s\nlog_level: warn\nbundle_endpoint:\n  enabled: false\nagent_api:\n  port: 0\ntoken_endpoint:\n  port: 0\n"
                .formatted(dir.resolve("data")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC(), SigilServer.Options.defaults()
                        .withPolicy(request -> new Decision.Allow(List.of("test"), Decision.Obligations.none()))
                        .withBrokers(List.of(new ConfiguredBroker(new MemoryBroker(), Duration.ofMinutes(15), Duration.ofHours(1)))));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private LeaseService.Issued issue() {
        return server.leases().issue(new LeaseService.IssueRequest(HOLDER, false, List.of(), "memory", "db", Optional.empty(),
                Optional.empty(), Map.of()));
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(server.admin().socketPath().toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    @Test
    void leasesAreListedShownRenewedAndRevokedByHolder() {
        String id = issue().lease().id().value();
        CliHarness.Result list = sigil("lease", "list", "--holder", HOLDER.toString());
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains(id).contains("active").contains("u-" + id);
        assertThat(sigil("lease", "show", id).out()).contains("memory");
        CliHarness.Result renew = sigil("lease", "renew", id, "--ttl", "30m");
        assertThat(renew.exitCode()).as(renew.err()).isZero();

        CliHarness.Result revoke = sigil("lease", "revoke", "--holder", HOLDER.toString());
        assertThat(revoke.exitCode()).as(revoke.err()).isZero();
        assertThat(revoke.out()).contains("revoked 1 of 1 lease(s)");
        assertThat(backend).isEmpty();
        assertThat(sigil("lease", "list", "--state", "revoked").out()).contains(id);
        assertThat(sigil("lease", "revoke").exitCode()).isNotZero();
    }

    @Test
    void showAndRenewTakeAnUnambiguousIdPrefix() {
        String id = issue().lease().id().value();

        CliHarness.Result shown = sigil("lease", "show", id.substring(0, 6));
        assertThat(shown.exitCode()).as(shown.err()).isZero();
        assertThat(shown.out()).contains(id).contains("memory");
        CliHarness.Result renewed = sigil("lease", "renew", id.substring(0, 6), "--ttl", "30m");
        assertThat(renewed.exitCode()).as(renewed.err()).isZero();
        assertThat(renewed.out()).contains(id);

        CliHarness.Result unknown = sigil("lease", "show", id.startsWith("a") ? "bbbb" : "aaaa");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no lease id starts with").hasLineCount(1);
        CliHarness.Result tooShort = sigil("lease", "show", id.substring(0, 2));
        assertThat(tooShort.exitCode()).isEqualTo(1);
        assertThat(tooShort.err()).contains("at least 4 characters");
    }

    @Test
    void aRenewalAboveTheMaximumSaysOnStderrThatItWasCapped() {
        String id = issue().lease().id().value();

        CliHarness.Result renewed = sigil("lease", "renew", id, "--ttl", "5h");

        assertThat(renewed.exitCode()).as(renewed.err()).isZero();
        assertThat(renewed.err()).contains("sigil: warning: the lease ttl was capped: asked for 5h, granted about").hasLineCount(1);
    }

    @Test
    void leakedValueIsReportedAndRevoked() throws Exception {
        LeaseService.Issued issued = issue();
        Path leaked = dir.resolve("leaked.txt");
        Files.writeString(leaked, issued.secret().revealToHolder().get("password") + "\n");
        CliHarness.Result report = sigil("leak", "report", "--file", leaked.toString());
        assertThat(report.exitCode()).as(report.err()).isZero();
        assertThat(report.out()).contains(issued.lease().id().value());
        assertThat(backend).isEmpty();
        assertThat(sigil("leak", "report", "--value", "nothing-like-it").out()).contains("no lease");
    }
}
