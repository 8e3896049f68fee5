package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.policy.PolicyRoutes;
import dev.sigil.server.policy.PolicyStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCommandTest {
    @TempDir
    Path tmp;

    private CliHarness.Result run(String... args) {
        return new CliHarness(Map.of(), tmp.resolve("home")).run(args);
    }

    @Test
    void exampleFixturesPassAgainstTheExamplePolicy() {
        CliHarness.Result result = run("policy", "test", "../docs/examples/policy-tests");

        assertThat(result.exitCode()).as(result.out() + result.err()).isZero();
        assertThat(result.out()).contains("PASS dev-policy_test.yaml / a dev workload may exchange for the example api")
                .contains("5 passed, 0 failed");
    }

    @Test
    void failingCaseIsReportedAndExitsOne() throws Exception {
        Files.writeString(tmp.resolve("inline_test.yaml"), """
                policy:
                  rules:
                    - name: web
                      effect: allow
                      subject: {spiffe_id: spiffe://td/web}
                      actions: [token:exchange]
                      resources: [https://api]
                cases:
                  - name: web is allowed
                    request: {subject: spiffe://td/web, action: token:exchange, resource: https://api}
                    expect: allow
                  - name: wrongly expects db to be allowed
                    request: {subject: spiffe://td/db, action: token:exchange, resource: https://api}
                    expect: allow
                """);

        CliHarness.Result result = run("policy", "test", tmp.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.out()).contains("PASS inline_test.yaml / web is allowed")
                .contains("FAIL inline_test.yaml / wrongly expects db to be allowed: expected allow, got deny")
                .contains("1 passed, 1 failed");
    }

    @Test
    void invalidPolicyInAFixtureFailsWithItsLine() throws Exception {
        Files.writeString(tmp.resolve("bad_test.yaml"), """
                policy: |
                  rules:
                    - name: web
                      effect: maybe
                cases: []
                """);

        CliHarness.Result result = run("policy", "test", tmp.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.out()).contains("FAIL bad_test.yaml: line 3").contains("effect 'maybe' is not valid");
    }

    @Test
    void applyPutsTheDocumentInForceAndListShowsIt() throws Exception {
        Path socket = tmp.resolve("admin.sock");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")))) {
            Clock clock = Clock.systemUTC();
            PolicyStore store = new PolicyStore(datastore, AuditTrail.create(datastore, clock), clock);
            AdminServer server = AdminServer.create(AdminServer.Options.unixSocket(socket),
                    AdminApi.of(new PolicyRoutes(store, clock).routes()), clock);
            server.start();
            try {
                CliHarness.Result applied = run("policy", "apply", "../docs/examples/dev-policy.yaml",
                        "--socket", socket.toString());
                assertThat(applied.exitCode()).as(applied.err()).isZero();
                assertThat(applied.out()).isEqualTo("policy version 1 applied: 2 rules\n");

                Files.writeString(tmp.resolve("bad.yaml"), "rules:\n  - name: x\n    effect: maybe\n");
                CliHarness.Result refused = run("policy", "apply", tmp.resolve("bad.yaml").toString(),
                        "--socket", socket.toString());
                assertThat(refused.exitCode()).isEqualTo(1);
                assertThat(refused.err()).contains("line 3").contains("effect 'maybe' is not valid");

                CliHarness.Result listed = run("policy", "list", "--socket", socket.toString());
                assertThat(listed.out()).isEqualTo("policy version 1\n  dev-to-example-api (allow, line 7)\n  dev-credentials (allow, line 17)\n");
            } finally {
                server.close();
            }
        }
    }
}
