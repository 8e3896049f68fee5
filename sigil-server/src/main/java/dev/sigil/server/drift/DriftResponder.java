package dev.sigil.server.drift;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.agent.DriftEvent;
import dev.sigil.server.agent.DriftListener;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.token.IssuedTokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The graded response to a workload drift, chosen per drifted SPIFFE ID by policy: the engine is asked
 * about action {@value #IGNORE_ACTION}, then {@value #NARROW_ACTION}, {@value #REATTEST_ACTION} and
 * {@value #REVOKE_ACTION}, each on resource {@code exited} or {@code selectors_changed}, and the first
 * allowed one applies. With no matching rule, a changed workload ({@code selectors_changed}) is answered
 * with {@code revoke} (fail closed) and an exit with {@code ignore} (other processes may share the
 * identity; a policy that wants credentials to end with the process allows {@value #REVOKE_ACTION}
 * on {@code exited}).
 *
 * <ul>
 *   <li>{@code revoke}: every lease the holder holds is revoked (durably, through the lease revoker),
 *       its live access tokens are revoked and its access tokens and JWT-SVIDs are marked on the status
 *       list; then grants need a fresh SVID (a {@link DriftGates} gate).</li>
 *   <li>{@code narrow}: nothing revoked; until the gate ends nothing new is granted on credentials issued
 *       before the drift, and no lease is renewed.</li>
 *   <li>{@code reattest}: nothing revoked, renewals allowed; the next grant needs a fresh SVID.</li>
 *   <li>{@code ignore}: only the audit record (e.g. for a replica's normal exit).</li>
 * </ul>
 *
 * <p>Every response is audited as {@code drift.respond} with the drift id, the mode and what it revoked
 * (token jtis, lease count), in the same transaction as the gate and the token revocations; the lease
 * revocations are audited by the revoker with reason {@code drift <id>}. Limits: a SPIFFE ID shared by
 * replicas is revoked for all of them (tokens and leases are held by identity, not by process).
 */
public final class DriftResponder implements DriftListener {
    public static final String IGNORE_ACTION = "drift:ignore";
    public static final String NARROW_ACTION = "drift:narrow";
    public static final String REATTEST_ACTION = "drift:reattest";
    public static final String REVOKE_ACTION = "drift:revoke";
    private static final Logger LOG = LoggerFactory.getLogger(DriftResponder.class);
    private static final String ACTOR = "sigil-server";

    /** What the responder changes. */
    public record Dependencies(PolicyEngine policy, Optional<LeaseService> leases, IssuedTokens tokens, DriftGates gates,
                               Datastore datastore, AuditTrail audit, Clock clock, Duration gateLifetime) {}

    private final Dependencies deps;
    private final Withdrawals withdrawals;

    public DriftResponder(Dependencies deps) {
        this.deps = deps;
        this.withdrawals = new Withdrawals(deps.leases(), deps.tokens(), deps.gates(), deps.datastore(), deps.audit(), deps.clock());
    }

    @Override
    public void onDrift(DriftEvent event) {
        for (SpiffeId holder : event.spiffeIds()) {
            try {
                respond(event, holder);
            } catch (RuntimeException e) {
                LOG.error("drift {} for {}: the response failed: {}", event.driftId(), holder, e.getMessage(), e);
            }
        }
    }

    /** Responds to {@code event} for one drifted identity; returns the mode applied. */
    String respond(DriftEvent event, SpiffeId holder) {
        Optional<DriftGates.Mode> mode = decide(event, holder);
        Instant now = deps.clock().instant();
        Map<String, String> details = new LinkedHashMap<>();
        details.put("drift_id", event.driftId());
        details.put("agent", event.agentId().toString());
        details.put("reason", event.reason().wireName());
        details.put("mode", mode.map(m -> m.name().toLowerCase(java.util.Locale.ROOT)).orElse("ignore"));
        if (mode.isEmpty()) {
            deps.audit().append(AuditEvent.success(ACTOR, "drift.respond", holder.toString(), details));
            return "ignore";
        }
        // A fresh SVID is minted after the drift was recorded: round up so one minted in the same second
        // before the drift cannot pass (fail closed; a workload retries a second later).
        Instant notBefore = event.recordedAt().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        DriftGates.Gate gate = new DriftGates.Gate(holder, mode.get(), notBefore, event.driftId(), notBefore.plus(deps.gateLifetime()));
        if (mode.get() == DriftGates.Mode.REVOKE) {
            Withdrawals.Result result = withdrawals.withdraw(new Withdrawals.Withdrawal(holder, "drift " + event.driftId(),
                    Optional.of(gate), "drift.respond", details));
            LOG.info("drift {}: {} token(s) of {} revoked, {} lease(s) marked for revocation, {} confirmed", event.driftId(),
                    result.revokedTokens().size(), holder, result.leasesMarked(), result.leasesRevoked());
            return "revoke";
        }
        deps.datastore().transaction(transaction -> {
            DriftGates.set(transaction, gate);
            deps.audit().append(transaction, AuditEvent.success(ACTOR, "drift.respond", holder.toString(), details));
            return null;
        });
        deps.gates().remember(gate);
        return details.get("mode");
    }

    private Optional<DriftGates.Mode> decide(DriftEvent event, SpiffeId holder) {
        if (allowed(IGNORE_ACTION, event, holder)) {
            return Optional.empty();
        }
        if (allowed(NARROW_ACTION, event, holder)) {
            return Optional.of(DriftGates.Mode.NARROW);
        }
        if (allowed(REATTEST_ACTION, event, holder)) {
            return Optional.of(DriftGates.Mode.REATTEST);
        }
        if (allowed(REVOKE_ACTION, event, holder)) {
            return Optional.of(DriftGates.Mode.REVOKE);
        }
        // Defaults: a process that is no longer what it was attested as loses everything; a process that
        // merely exited (a CLI run, a replica's restart) does not take its identity's credentials with
        // it, since other processes may share that SPIFFE ID. Policy may choose otherwise.
        return event.reason() == DriftEvent.Reason.EXITED ? Optional.empty() : Optional.of(DriftGates.Mode.REVOKE);
    }

    private boolean allowed(String action, DriftEvent event, SpiffeId holder) {
        PolicyRequest request = new PolicyRequest(holder, event.selectorsBefore(), 0, Optional.empty(), action,
                event.reason().wireName(), List.of(), Optional.empty(), List.of(), deps.clock().instant(),
                Map.of("drift_id", event.driftId(), "agent", event.agentId().toString(),
                        "selectors_after", event.selectorsAfter().stream().map(Object::toString).sorted().toList()));
        try {
            return deps.policy().decide(request) instanceof Decision.Allow;
        } catch (RuntimeException e) {
            LOG.warn("drift {}: policy evaluation for {} failed, applying the strictest response: {}", event.driftId(), action,
                    e.getMessage());
            return false;
        }
    }
}
