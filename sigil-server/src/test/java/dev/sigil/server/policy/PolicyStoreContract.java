package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.DatastoreContract;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every datastore must do for the policy store; run on SQLite and PostgreSQL. */
abstract class PolicyStoreContract extends DatastoreContract {
    private static final String ALLOW_WEB = """
            rules:
              - name: web-to-api
                effect: allow
                subject: {spiffe_id: spiffe://td/web}
                actions: [token:exchange]
                resources: [https://api]
            """;
    private static final PolicyRequest WEB = Requests.of("spiffe://td/web", "token:exchange", "https://api").build();

    private PolicyStore newStore() {
        return new PolicyStore(datastore, AuditTrail.create(datastore, clock), clock);
    }

    private List<AuditRecord> policyAudit() {
        return AuditTrail.create(datastore, clock).query(AuditQuery.all().byActionPrefix("policy.apply"));
    }

    @Test
    void freshStoreDeniesEverything() {
        PolicyStore store = newStore();

        assertThat(store.current().version()).isZero();
        assertThat(store.decide(WEB)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void appliedPolicyIsInForceVersionedAndAudited() {
        PolicyStore store = newStore();

        PolicyStore.ActivePolicy applied = store.apply(ALLOW_WEB, "admin:alice");

        assertThat(applied.version()).isEqualTo(1);
        assertThat(store.decide(WEB)).isInstanceOf(Decision.Allow.class);
        assertThat(store.apply(ALLOW_WEB, "admin:alice").version()).isEqualTo(2);
        assertThat(policyAudit()).hasSize(2).allSatisfy(r -> {
            assertThat(r.outcome()).isEqualTo(AuditOutcome.SUCCESS);
            assertThat(r.actor()).isEqualTo("admin:alice");
            assertThat(r.details()).contains("rules");
        });
    }

    @Test
    void invalidPolicyChangesNothingAndIsAuditedAsDenied() {
        PolicyStore store = newStore();
        store.apply(ALLOW_WEB, "admin:alice");

        assertThatThrownBy(() -> store.apply(ALLOW_WEB + "    colour: blue\n", "admin:mallory"))
                .isInstanceOf(PolicyDocumentException.class).hasMessageContaining("unknown field 'colour'");

        assertThat(store.current().version()).isEqualTo(1);
        assertThat(store.decide(WEB)).isInstanceOf(Decision.Allow.class);
        assertThat(newStore().current().version()).isEqualTo(1);
        assertThat(policyAudit()).last().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(AuditOutcome.DENIED);
            assertThat(r.actor()).isEqualTo("admin:mallory");
            assertThat(r.details()).contains("unknown field 'colour'");
        });
    }

    @Test
    void restartedServerLoadsTheStoredPolicy() {
        newStore().apply(ALLOW_WEB, "admin:alice");

        PolicyStore restarted = new PolicyStore(openDatastore(), AuditTrail.create(datastore, clock), clock);

        assertThat(restarted.current().version()).isEqualTo(1);
        assertThat(restarted.current().yaml()).isEqualTo(ALLOW_WEB);
        assertThat(restarted.decide(WEB)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void reloadPicksUpAnotherServersApply() {
        PolicyStore first = newStore();
        PolicyStore second = new PolicyStore(openDatastore(), AuditTrail.create(datastore, clock), clock);

        first.apply(ALLOW_WEB, "admin:alice");

        assertThat(second.decide(WEB)).isInstanceOf(Decision.Deny.class);
        assertThat(second.reload().version()).isEqualTo(1);
        assertThat(second.decide(WEB)).isInstanceOf(Decision.Allow.class);
    }
}
