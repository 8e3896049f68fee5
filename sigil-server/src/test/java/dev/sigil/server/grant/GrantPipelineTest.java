package dev.sigil.server.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.task.Task;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The grant pipeline's order and refusals, over a real audit trail, a fake policy engine and in-memory tasks. */
class GrantPipelineTest {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://example.org/billing");
    private static final SpiffeId ACTOR = SpiffeId.parse("spiffe://example.org/agents/planner");
    private static final GrantPipeline.AuditSite SITE = new GrantPipeline.AuditSite("token.exchange", Map.of("audience", "api"));

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private final Map<SpiffeId, Decision> decisions = new HashMap<>();
    private final List<PolicyRequest> asked = new ArrayList<>();
    private final Map<String, Task> tasks = new HashMap<>();
    private Datastore datastore;
    private AuditTrail audit;
    private GrantPipeline pipeline;

    @BeforeEach
    void start() {
        datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")));
        audit = AuditTrail.create(datastore, clock);
        PolicyEngine policy = request -> {
            asked.add(request);
            return decisions.getOrDefault(request.subject(), new Decision.Deny(List.of()));
        };
        pipeline = new GrantPipeline(policy, id -> Optional.ofNullable(tasks.get(id)), subject -> SubjectEvidence.Evidence.none(), audit,
                clock);
    }

    @AfterEach
    void stop() {
        datastore.close();
    }

    private static Decision.Allow allow(Optional<Duration> maxTtl, Optional<Set<String>> scopes, boolean mtls) {
        return new Decision.Allow(List.of("rule allows"), new Decision.Obligations(maxTtl, scopes, mtls));
    }

    private static GrantRequest request(Optional<SpiffeId> actor, List<String> scopes, Optional<String> task, boolean mtls) {
        return new GrantRequest(HOLDER, actor, actor.map(List::of).orElse(List.of()), mtls, "token:exchange",
                GrantRequest.Target.audience("api"), scopes, task, Map.of(),
                new GrantRequest.Limits("token", Optional.empty(), Duration.ofMinutes(10), Duration.ofMinutes(10), Optional.empty()));
    }

    private Task task(String id, SpiffeId holder, Instant expiresAt, String... allowed) {
        Task task = new Task(id, "ops", holder, "nightly export", java.util.Arrays.stream(allowed).map(a -> {
            String[] parts = a.split(":", 2);
            return new Task.Permission(parts[0], parts[1]);
        }).toList(), clock.instant(), expiresAt, Optional.empty());
        tasks.put(id, task);
        return task;
    }

    private List<AuditRecord> denials() {
        return audit.query(AuditQuery.all()).stream().filter(r -> r.outcome() == AuditOutcome.DENIED).toList();
    }

    @Test
    void allowedRequestGetsTheRequestedScopesPolicyPermitsAndTheDefaultLifetime() {
        decisions.put(HOLDER, allow(Optional.empty(), Optional.of(Set.of("read", "write")), false));

        Authorization granted = pipeline.authorize(request(Optional.empty(), List.of("read", "admin"), Optional.empty(), false), SITE);

        assertThat(granted.scopes()).containsExactly("read");
        assertThat(granted.issuedAt()).isEqualTo(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        assertThat(granted.expiresAt()).isEqualTo(granted.issuedAt().plus(Duration.ofMinutes(10)));
        assertThat(denials()).isEmpty();
    }

    @Test
    void aFailingPolicyEngineDeniesAndTheDenialIsAudited() {
        PolicyEngine broken = request -> {
            throw new IllegalStateException("cel blew up");
        };
        GrantPipeline failing = new GrantPipeline(broken, id -> Optional.empty(), subject -> SubjectEvidence.Evidence.none(), audit, clock);

        assertThatThrownBy(() -> failing.authorize(request(Optional.empty(), List.of(), Optional.empty(), false), SITE))
                .isInstanceOfSatisfying(GrantRefused.class, e -> assertThat(e.kind()).isEqualTo(GrantRefused.Kind.ACCESS_DENIED))
                .hasMessageContaining("fail closed");
        assertThat(denials()).singleElement().satisfies(r -> {
            assertThat(r.action()).isEqualTo("token.exchange");
            assertThat(r.subject()).isEqualTo(HOLDER.toString());
            assertThat(r.details()).contains("\"audience\":\"api\"").contains("\"error\":\"access_denied\"");
        });
    }

    @Test
    void anActorMustBeAllowedItselfAndCanOnlyNarrow() {
        decisions.put(HOLDER, allow(Optional.empty(), Optional.of(Set.of("read", "write")), false));
        assertThatThrownBy(() -> pipeline.authorize(request(Optional.of(ACTOR), List.of("read"), Optional.empty(), false), SITE))
                .isInstanceOf(GrantRefused.class).hasMessageContaining("policy denies token:exchange on api for " + ACTOR);
        assertThat(asked).extracting(PolicyRequest::subject).containsExactly(HOLDER, ACTOR);
        assertThat(asked.get(1).claims()).containsEntry("on_behalf_of", HOLDER.toString());

        decisions.put(ACTOR, allow(Optional.of(Duration.ofMinutes(2)), Optional.of(Set.of("read")), false));
        assertThatThrownBy(() -> pipeline.authorize(request(Optional.of(ACTOR), List.of("write"), Optional.empty(), false), SITE))
                .isInstanceOfSatisfying(GrantRefused.class, e -> assertThat(e.kind()).isEqualTo(GrantRefused.Kind.INVALID_SCOPE))
                .hasMessageContaining("an actor can only narrow");

        Authorization narrowed = pipeline.authorize(request(Optional.of(ACTOR), List.of(), Optional.empty(), false), SITE);
        assertThat(narrowed.scopes()).containsExactly("read");
        assertThat(narrowed.expiresAt()).as("the actor's max_ttl caps the lifetime").isEqualTo(narrowed.issuedAt().plus(Duration.ofMinutes(2)));
        assertThat(denials()).hasSize(2);
    }

    @Test
    void theTaskBoundaryIsCheckedBeforePolicyIsAsked() {
        decisions.put(HOLDER, allow(Optional.empty(), Optional.empty(), false));
        task("t-other", ACTOR, clock.instant().plusSeconds(600), "token:api");
        task("t-narrow", HOLDER, clock.instant().plusSeconds(600), "read:api");
        task("t-elsewhere", HOLDER, clock.instant().plusSeconds(600), "read:other");

        assertThatThrownBy(() -> pipeline.authorize(request(Optional.empty(), List.of(), Optional.of("t-missing"), false), SITE))
                .hasMessageContaining("task 't-missing' does not exist");
        assertThatThrownBy(() -> pipeline.authorize(request(Optional.empty(), List.of(), Optional.of("t-other"), false), SITE))
                .hasMessageContaining("is held by " + ACTOR);
        assertThatThrownBy(() -> pipeline.authorize(request(Optional.empty(), List.of(), Optional.of("t-elsewhere"), false), SITE))
                .isInstanceOfSatisfying(GrantRefused.class, e -> assertThat(e.kind()).isEqualTo(GrantRefused.Kind.INVALID_TARGET))
                .hasMessageContaining("audience api is outside task t-elsewhere");
        assertThatThrownBy(() -> pipeline.authorize(request(Optional.empty(), List.of("write"), Optional.of("t-narrow"), false), SITE))
                .isInstanceOfSatisfying(GrantRefused.class, e -> assertThat(e.kind()).isEqualTo(GrantRefused.Kind.INVALID_SCOPE));
        assertThat(asked).as("policy is not asked about requests outside a task").isEmpty();
        assertThat(denials()).hasSize(4).allSatisfy(r -> assertThat(r.details()).contains("\"reasons\"").contains("\"description\""));
    }

    @Test
    void theCredentialEndsWithItsTaskAndNoLifetimeLeftIsRefused() {
        decisions.put(HOLDER, allow(Optional.empty(), Optional.empty(), false));
        task("t1", HOLDER, clock.instant().plusSeconds(90), "read:api");

        Authorization bound = pipeline.authorize(request(Optional.empty(), List.of(), Optional.of("t1"), false), SITE);
        assertThat(bound.expiresAt()).isEqualTo(tasks.get("t1").expiresAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        assertThat(bound.maxExpiresAt()).isEqualTo(bound.expiresAt());

        GrantRequest pastDeadline = new GrantRequest(HOLDER, Optional.empty(), List.of(), false, "token:exchange",
                GrantRequest.Target.audience("api"), List.of(), Optional.empty(), Map.of(),
                new GrantRequest.Limits("token", Optional.empty(), Duration.ofMinutes(10), Duration.ofMinutes(10),
                        Optional.of(clock.instant().minusSeconds(1))));
        assertThatThrownBy(() -> pipeline.authorize(pastDeadline, SITE)).hasMessageContaining("the token would expire immediately");
    }

    @Test
    void aPolicyRequiringMutualTlsRefusesABearerCaller() {
        decisions.put(HOLDER, allow(Optional.empty(), Optional.empty(), true));

        assertThatThrownBy(() -> pipeline.authorize(request(Optional.empty(), List.of(), Optional.empty(), false), SITE))
                .hasMessageContaining("mutual tls");
        assertThat(pipeline.authorize(request(Optional.empty(), List.of(), Optional.empty(), true), SITE).holder().obligations()
                .requireMutualTls()).isTrue();
        assertThat(asked.get(0).claims()).containsEntry("mtls", false);
    }
}
