package dev.sigil.server.policy;

import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Clock;
import java.util.List;

/**
 * The admin API of policy: {@code PUT /v1/policy} applies a document ({@code {"yaml": "..."}}; 400 with
 * "line N: reason" when invalid, the policy in force then unchanged), {@code GET /v1/policy} shows the
 * document in force, {@code POST /v1/policy/decide} evaluates a request against it without side effects
 * (for debugging). Applies are attributed to the caller and audited by the store.
 */
public final class PolicyRoutes {
    private final PolicyStore store;
    private final Clock clock;

    public PolicyRoutes(PolicyStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    public Routes routes() {
        return Routes.builder()
                .put("/v1/policy", this::apply)
                .get("/v1/policy", request -> Reply.ok(PolicyJson.of(store.current())))
                .post("/v1/policy/decide", this::decide)
                .build();
    }

    record ApplyJson(String yaml) {
    }

    /** The version just applied and how many rules it has. */
    record AppliedJson(long version, int rules) {
    }

    /** The policy in force; version 0 and empty yaml when none was ever applied. */
    public record PolicyJson(long version, String yaml, List<String> rules) {
        static PolicyJson of(PolicyStore.ActivePolicy active) {
            return new PolicyJson(active.version(), active.yaml(), active.policy().describeRules());
        }
    }

    private Reply apply(AdminRequest request) {
        ApplyJson body = request.body(ApplyJson.class);
        if (body.yaml() == null) {
            throw ApiException.invalidArgument("field 'yaml' is required and must hold the policy document");
        }
        try {
            PolicyStore.ActivePolicy applied = store.apply(body.yaml(), request.actor().describe());
            return Reply.ok(new AppliedJson(applied.version(), applied.policy().ruleCount()));
        } catch (PolicyDocumentException e) {
            throw ApiException.invalidArgument("policy not applied: " + e.getMessage());
        }
    }

    private Reply decide(AdminRequest request) {
        PolicyRequestJson body = request.body(PolicyRequestJson.class);
        return Reply.ok(DecisionJson.of(store.decide(body.toRequest(clock))));
    }
}
