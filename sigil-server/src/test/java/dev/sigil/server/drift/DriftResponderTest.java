package dev.sigil.server.drift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.DriftEvent;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.token.IssuedTokens;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DriftResponderTest extends DatastoreContract {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://example.org/sigil/agent/join_token/n1");

    private final AtomicReference<String> allowedAction = new AtomicReference<>("");
    private DriftGates gates;
    private AuditTrail audit;
    private DriftResponder responder;

    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }

    @BeforeEach
    void wire() {
        PolicyEngine policy = request -> request.action().equals(allowedAction.get())
                ? new Decision.Allow(List.of("rule allows " + request.action()), Decision.Obligations.none())
                : new Decision.Deny(List.of("no rule"));
        gates = new DriftGates(datastore, clock);
        audit = AuditTrail.create(datastore, clock);
        responder = new DriftResponder(new DriftResponder.Dependencies(policy, Optional.empty(), new IssuedTokens(datastore), gates,
                datastore, audit, clock, Duration.ofHours(1)));
    }

    @Test
    void withoutAMilderRuleTheResponseIsRevokeWithAGate() {
        assertThat(responder.respond(event(DriftEvent.Reason.SELECTORS_CHANGED), WEB)).isEqualTo("revoke");
        assertThat(gates.refusesGrant(WEB, clock.instant().minusSeconds(5))).isPresent();
        assertThat(audit.query(AuditQuery.all()).getLast().details()).contains("\"mode\":\"revoke\"").contains("d-1");
    }

    @Test
    void policyMayNarrowOrAskForReattestationOrIgnore() {
        allowedAction.set(DriftResponder.NARROW_ACTION);
        assertThat(responder.respond(event(DriftEvent.Reason.SELECTORS_CHANGED), WEB)).isEqualTo("narrow");
        assertThat(gates.refusesRenewal(WEB)).isPresent();

        allowedAction.set(DriftResponder.REATTEST_ACTION);
        assertThat(responder.respond(event(DriftEvent.Reason.SELECTORS_CHANGED), WEB)).isEqualTo("reattest");
        assertThat(gates.refusesRenewal(WEB)).isEmpty();

        allowedAction.set(DriftResponder.IGNORE_ACTION);
        SpiffeId other = SpiffeId.parse("spiffe://example.org/batch");
        assertThat(responder.respond(event(DriftEvent.Reason.EXITED), other)).isEqualTo("ignore");
        assertThat(gates.refusesGrant(other, clock.instant().minusSeconds(5))).isEmpty();
    }

    @Test
    void anExitIsIgnoredByDefaultAndRevokesWhenPolicySaysSo() {
        assertThat(responder.respond(event(DriftEvent.Reason.EXITED), WEB)).isEqualTo("ignore");
        assertThat(gates.refusesGrant(WEB, clock.instant().minusSeconds(5))).isEmpty();

        allowedAction.set(DriftResponder.REVOKE_ACTION);
        assertThat(responder.respond(event(DriftEvent.Reason.EXITED), WEB)).isEqualTo("revoke");
        assertThat(gates.refusesGrant(WEB, clock.instant().minusSeconds(5))).isPresent();
    }

    private DriftEvent event(DriftEvent.Reason reason) {
        return new DriftEvent("d-1", AGENT, 4242, Set.of(WEB), Set.of(Selector.parse("unix:uid:1000")), Set.of(), reason,
                clock.instant(), clock.instant());
    }
}
