package dev.sigil.bench;

import dev.sigil.cli.server.Logging;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseState;
import dev.sigil.server.policy.Decision;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * PostgreSQL leases through the whole lease service, as an operator's {@code sigil lease revoke
 * --broker postgresql} does it: a {@link SigilServer} configured with the {@code postgresql} broker
 * (YAML, SQLite datastore durable, audit on) against a loopback PostgreSQL of its own; {@code --leases}
 * leases issued through {@link LeaseService#issue} (each: policy, pending record, {@code CREATE ROLE},
 * active record with audit), then one revoke of all of them by broker filter (intent and audit records,
 * then the backend revocation of each, confirmed in the store).
 *
 * <p>Usage: {@code LeaseRevokeBench [--leases 1000]}
 */
public final class LeaseRevokeBench {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://example.org/billing/report-job");

    private LeaseRevokeBench() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--leases"));
        int count = options.positiveInt("--leases", 1_000);
        Logging.apply("warn");
        try (PostgresServer postgres = PostgresServer.start(); TempDirectory root = TempDirectory.create("sigil-leases")) {
            PostgresServer.Database database = postgres.createDatabase();
            PostgresBrokerBench.setUp(database);
            Path passwordFile = root.path().resolve("pg.pass");
            Files.writeString(passwordFile, PostgresBrokerBench.ADMIN_PASSWORD);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            Path file = root.path().resolve("sigil.yaml");
            Files.writeString(file, """
                    data_dir: %s
                    trust_domain: example.org
                    log_level: warn
                    bundle_endpoint:
                      enabled: false
                    agent_api:
                      port: 0
                    token_endpoint:
                      port: 0
                    brokers:
                      postgresql:
                        url: "%s"
                        admin_user: sigil_broker
                        admin_password_file: %s
                        resources:
                          reports:
                            member_of: [reports_read]
                    """.formatted(root.path().resolve("server"), database.jdbcUrl(), passwordFile));
            var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), root.path()), ConfigOverrides.none());
            try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                    SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("bench allows"), Decision.Obligations.none())))) {
                LeaseService leases = server.leases();
                long[] issueNanos = new long[count];
                long issueStart = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    long t0 = System.nanoTime();
                    leases.issue(new LeaseService.IssueRequest(HOLDER, false, List.of(), "postgresql", "reports", Optional.empty(),
                            Optional.empty(), Map.of()));
                    issueNanos[i] = System.nanoTime() - t0;
                }
                double issueSeconds = (System.nanoTime() - issueStart) / 1e9;
                Arrays.sort(issueNanos);

                long start = System.nanoTime();
                var result = leases.revoke(LeaseFilter.all().withBroker("postgresql"), "bench", "bench");
                long remaining;
                do {
                    remaining = leases.list(LeaseFilter.all().withBroker("postgresql").withState(LeaseState.REVOKING), count).size();
                    if (remaining > 0) {
                        Thread.sleep(20);
                    }
                } while (remaining > 0 && System.nanoTime() - start < 120_000_000_000L);
                double revokeSeconds = (System.nanoTime() - start) / 1e9;

                System.out.printf("lease service + postgresql broker, %,d leases, SQLite durable datastore, loopback PostgreSQL%n", count);
                System.out.printf("  issue through LeaseService: %.1f s (%.0f/s), p50 %.2f ms, p99 %.2f ms%n", issueSeconds,
                        count / issueSeconds, issueNanos[count / 2] / 1e6, issueNanos[count * 99 / 100] / 1e6);
                System.out.printf("  revoke all by broker: %.2f s for %,d leases (%d confirmed in the first pass, %d left revoking)  "
                        + "(target <= 10 s: %s)%n", revokeSeconds, result.requested(), result.revoked(), remaining,
                        revokeSeconds <= 10 && remaining == 0 ? "met" : "NOT met");
                if (!(revokeSeconds <= 10 && remaining == 0)) {
                    System.exit(1);
                }
            }
        }
    }
}
