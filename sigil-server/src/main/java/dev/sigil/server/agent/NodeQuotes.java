package dev.sigil.server.agent;

import dev.sigil.core.Printable;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.agent.v1.QuoteChallengeResponse;
import dev.sigil.proto.agent.v1.SubmitQuoteRequest;
import dev.sigil.proto.agent.v1.SubmitQuoteResponse;
import dev.sigil.server.agent.attestor.ContinuousAttestor;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.registration.RegistrationEntry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous node attestation on the agent API ({@code QuoteChallenge}, {@code SubmitQuote}) and the
 * response to node drift.
 *
 * <p>Every submitted quote is audited as {@code node.quote} with a {@code quote_id}. A quote whose
 * verified evidence is outside policy is node drift, handled through the same path as workload drift:
 * one {@code node.drift} record per affected identity (every identity the agent may serve, and the
 * agent's own), sharing a {@code drift_id} and naming the {@code quote_id}; then the {@link DriftListener}
 * (which revokes per policy, auditing {@code drift.respond} with the drift id); then the agent is evicted
 * (actor {@code sigil-server/<drift_id>}), so its SVID stops authenticating and the node must attest
 * again, which a node outside policy cannot. The agent is answered PERMISSION_DENIED.
 */
final class NodeQuotes {
    private static final Logger LOG = LoggerFactory.getLogger(NodeQuotes.class);
    static final String QUOTE_ACTION = "node.quote";
    static final String DRIFT_ACTION = "node.drift";

    private final Map<String, NodeAttestor> attestors;
    private final AgentStore agents;
    private final AuthorizedEntries authorized;
    private final AuditTrail audit;
    private final DriftListener listener;
    private final Clock clock;

    NodeQuotes(Map<String, NodeAttestor> attestors, AgentStore agents, AuthorizedEntries authorized, AuditTrail audit,
               DriftListener listener, Clock clock) {
        this.attestors = attestors;
        this.agents = agents;
        this.authorized = authorized;
        this.audit = audit;
        this.listener = listener;
        this.clock = clock;
    }

    QuoteChallengeResponse challenge(Agent agent) {
        byte[] challenge = continuous(agent).challenge(agent.spiffeId()).orElseThrow(() -> Status.PERMISSION_DENIED
                .withDescription("no " + agent.attestorType() + " attestation of agent " + agent.spiffeId()
                        + " is on record on this server; attest again").asRuntimeException());
        return QuoteChallengeResponse.newBuilder().setChallenge(com.google.protobuf.ByteString.copyFrom(challenge)).build();
    }

    SubmitQuoteResponse submit(Agent agent, SubmitQuoteRequest request) {
        ContinuousAttestor attestor = continuous(agent);
        String actor = agent.spiffeId().toString();
        String subject = agent.spiffeId().toString();
        String quoteId = "quote-" + UUID.randomUUID();
        return switch (attestor.verify(agent.spiffeId(), request.getAnswer().toByteArray())) {
            case ContinuousAttestor.Verdict.Accepted accepted -> {
                audit.append(AuditEvent.success(actor, QUOTE_ACTION, subject, Map.of("quote_id", quoteId, "attestor", attestor.type(),
                        "evidence", clipped(accepted.evidence()))));
                yield SubmitQuoteResponse.newBuilder().setQuoteId(quoteId).build();
            }
            case ContinuousAttestor.Verdict.Refused refused -> {
                audit.append(AuditEvent.denied(actor, QUOTE_ACTION, subject, Map.of("quote_id", quoteId, "reason", clipped(refused.reason()))));
                throw (refused.malformed() ? Status.INVALID_ARGUMENT : Status.PERMISSION_DENIED).withDescription(refused.reason())
                        .asRuntimeException();
            }
            case ContinuousAttestor.Verdict.Unknown unknown -> {
                audit.append(AuditEvent.denied(actor, QUOTE_ACTION, subject, Map.of("quote_id", quoteId, "reason", clipped(unknown.reason()))));
                throw Status.PERMISSION_DENIED.withDescription(unknown.reason()).asRuntimeException();
            }
            case ContinuousAttestor.Verdict.Drifted drifted -> throw drift(agent, attestor, quoteId, drifted);
        };
    }

    private StatusRuntimeException drift(Agent agent, ContinuousAttestor attestor, String quoteId, ContinuousAttestor.Verdict.Drifted drifted) {
        String actor = agent.spiffeId().toString();
        String driftId = "drift-" + UUID.randomUUID();
        Instant now = clock.instant();
        audit.append(AuditEvent.denied(actor, QUOTE_ACTION, agent.spiffeId().toString(), Map.of("quote_id", quoteId,
                "drift_id", driftId, "reason", clipped(drifted.reason()))));
        Set<SpiffeId> ids = new TreeSet<>(java.util.Comparator.comparing(SpiffeId::toString));
        authorized.allFor(authorized.parentsOf(agent)).stream().map(RegistrationEntry::spiffeId).forEach(ids::add);
        ids.add(agent.spiffeId());
        DriftEvent event = new DriftEvent(driftId, agent.spiffeId(), 0, ids, Set.copyOf(drifted.before()), Set.copyOf(drifted.after()),
                DriftEvent.Reason.NODE_DRIFT, now, now);
        List<AuditEvent> records = new ArrayList<>();
        for (SpiffeId id : ids) {
            Map<String, String> details = new LinkedHashMap<>();
            details.put("drift_id", driftId);
            details.put("quote_id", quoteId);
            details.put("agent", agent.spiffeId().toString());
            details.put("attestor", attestor.type());
            details.put("reason", DriftEvent.Reason.NODE_DRIFT.wireName());
            details.put("detail", clipped(drifted.reason()));
            details.put("selectors_before", DriftReports.joined(strings(drifted.before())));
            details.put("selectors_after", DriftReports.joined(strings(drifted.after())));
            records.add(AuditEvent.success("sigil-server", DRIFT_ACTION, id.toString(), details));
        }
        audit.appendAll(records);
        LOG.warn("node drift {} of agent {} (quote {}): {}; revoking what its {} identities hold and evicting it", driftId,
                agent.spiffeId(), quoteId, Printable.clip(drifted.reason()), ids.size());
        try {
            listener.onDrift(event);
        } catch (RuntimeException e) {
            LOG.error("drift listener failed for node drift {}: {}", driftId, e.toString(), e);
        }
        agents.evict(agent.spiffeId(), "sigil-server/" + driftId);
        return Status.PERMISSION_DENIED.withDescription("node drift " + driftId + ": " + drifted.reason()
                + "; the credentials of this node's workloads were revoked and the agent must attest again").asRuntimeException();
    }

    private ContinuousAttestor continuous(Agent agent) {
        if (attestors.get(agent.attestorType()) instanceof ContinuousAttestor attestor) {
            return attestor;
        }
        throw Status.FAILED_PRECONDITION.withDescription("agent " + agent.spiffeId() + " attested with " + agent.attestorType()
                + ", which takes no quotes; only continuous attestors (tpm) do").asRuntimeException();
    }

    private static List<String> strings(List<Selector> selectors) {
        return selectors.stream().sorted().map(Selector::toString).toList();
    }

    private static String clipped(String text) {
        return Printable.clip(text, AuditEvent.MAX_DETAIL_LENGTH - 64);
    }
}
