package dev.sigil.server.agent;

import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.CsrRejectedException;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.svid.SvidIssuer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Attest stream: params, then zero or more challenge/answer rounds, then the agent's SVID or an
 * error status. The CSR is checked before the attestor sees the evidence, so malformed input never
 * uses up one-time evidence (a join token). Every refusal is audited ({@code agent.attest}, denied).
 * A conversation that has not ended within its time limit is closed with DEADLINE_EXCEEDED, so a
 * client cannot hold server state by never answering a challenge. Calls are serialized on this object
 * (gRPC's thread and the timer's).
 */
final class AttestCall implements StreamObserver<AttestRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(AttestCall.class);
    private static final int MAX_ROUNDS = 8;

    private final Map<String, NodeAttestor> attestors;
    private final AgentStore agents;
    private final SvidIssuer issuer;
    private final Authority authority;
    private final AuditTrail audit;
    private final Duration agentSvidTtl;
    private final String actor;
    private final StreamObserver<AttestResponse> out;
    private final java.util.concurrent.ScheduledFuture<?> timeout;

    private NodeAttestor attestor;
    private byte[] csr;
    private AttestationStep.Challenge pending;
    private int rounds;
    private boolean done;

    AttestCall(Map<String, NodeAttestor> attestors, AgentStore agents, SvidIssuer issuer, Authority authority, AuditTrail audit,
               Duration agentSvidTtl, String actor, StreamObserver<AttestResponse> out,
               java.util.concurrent.ScheduledExecutorService timer, Duration timeLimit) {
        this.attestors = attestors;
        this.agents = agents;
        this.issuer = issuer;
        this.authority = authority;
        this.audit = audit;
        this.agentSvidTtl = agentSvidTtl;
        this.actor = actor;
        this.out = out;
        this.timeout = timer.schedule(this::expire, timeLimit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private synchronized void expire() {
        finish(fail(Status.DEADLINE_EXCEEDED, "attestation did not finish in time"
                + (pending != null ? "; the challenge was not answered" : "")));
    }

    @Override
    public synchronized void onNext(AttestRequest request) {
        if (done) {
            return;
        }
        try {
            AttestationStep step;
            if (attestor == null) {
                if (!request.hasParams()) {
                    throw fail(Status.INVALID_ARGUMENT, "the first attest message must carry params (attestor, payload, csr)");
                }
                step = begin(request);
            } else {
                if (!request.hasChallengeResponse() || pending == null) {
                    throw fail(Status.INVALID_ARGUMENT, "expected a challenge_response after the server's challenge");
                }
                AttestationStep.Challenge challenge = pending;
                pending = null;
                step = challenge.answer(request.getChallengeResponse().toByteArray());
            }
            advance(step);
        } catch (StatusRuntimeException e) {
            finish(e);
        } catch (dev.sigil.server.datastore.DatastoreException e) {
            LOG.error("attestation from {} failed: {}", actor, e.getMessage(), e);
            finish(Status.UNAVAILABLE.withDescription("the server cannot reach its datastore; retry later").asRuntimeException());
        } catch (RuntimeException e) {
            LOG.error("attestation from {} failed: {}", actor, e.getMessage(), e);
            finish(Status.INTERNAL.withDescription("attestation failed on the server: " + e.getClass().getSimpleName()).asRuntimeException());
        }
    }

    private AttestationStep begin(AttestRequest request) {
        String type = request.getParams().getAttestor();
        NodeAttestor found = attestors.get(type);
        if (found == null) {
            throw fail(Status.INVALID_ARGUMENT, "node attestor '" + type + "' is not enabled on this server; enabled: "
                    + String.join(", ", attestors.keySet().stream().sorted().toList()));
        }
        csr = request.getParams().getCsr().toByteArray();
        try {
            Authority.checkCsr(csr);
        } catch (CsrRejectedException e) {
            throw fail(Status.INVALID_ARGUMENT, e.getMessage());
        }
        attestor = found;
        return found.begin(request.getParams().getPayload().toByteArray(), actor);
    }

    private void advance(AttestationStep step) {
        switch (step) {
            case AttestationStep.Challenge challenge -> {
                if (++rounds > MAX_ROUNDS) {
                    throw refuse(Status.PERMISSION_DENIED, attestor.type() + " attestation needed more than " + MAX_ROUNDS + " challenges");
                }
                pending = challenge;
                out.onNext(AttestResponse.newBuilder()
                        .setChallenge(com.google.protobuf.ByteString.copyFrom(challenge.challenge())).build());
            }
            case AttestationStep.Refused refused -> throw refuse(Status.PERMISSION_DENIED, refused.reason());
            case AttestationStep.Malformed malformed -> throw refuse(Status.INVALID_ARGUMENT, malformed.reason());
            case AttestationStep.Attested attested -> admit(attested);
        }
    }

    private void admit(AttestationStep.Attested attested) {
        agents.find(attested.agentId()).filter(Agent::banned).ifPresent(banned -> {
            audit.append(AuditEvent.denied(actor, "agent.attest", attested.agentId().toString(),
                    Map.of("reason", "banned", "attestor", attestor.type())));
            throw fail(Status.PERMISSION_DENIED, "agent " + attested.agentId() + " is banned; evict it to let the node attest again");
        });
        X509Svid svid = issuer.issueX509(attested.agentId(), csr, agentSvidTtl, List.of(), actor);
        AgentStore.Recording recording = agents.recordAttestation(new AgentStore.Attestation(attested.agentId(), attestor.type(),
                attested.selectors(), attested.trustLevel(), svid.leaf().getSerialNumber(), svid.expiresAt()), actor);
        Agent agent = switch (recording) {
            case AgentStore.Recording.Recorded recorded -> recorded.agent();
            case AgentStore.Recording.Banned banned ->
                    throw fail(Status.PERMISSION_DENIED, "agent " + attested.agentId() + " is banned; evict it to let the node attest again");
        };
        out.onNext(AttestResponse.newBuilder().setResult(AgentProtos.agentSvid(agent, svid, authority.bundle())).build());
        done = true;
        timeout.cancel(false);
        out.onCompleted();
    }

    private StatusRuntimeException refuse(Status status, String reason) {
        audit.append(AuditEvent.denied(actor, "agent.attest", "attestor:" + attestor.type(), Map.of("reason", truncate(reason))));
        return fail(status, reason);
    }

    private static String truncate(String text) {
        return text.length() > AuditEvent.MAX_DETAIL_LENGTH ? text.substring(0, AuditEvent.MAX_DETAIL_LENGTH) : text;
    }

    private static StatusRuntimeException fail(Status status, String description) {
        return status.withDescription(description).asRuntimeException();
    }

    private void finish(StatusRuntimeException e) {
        if (!done) {
            done = true;
            timeout.cancel(false);
            out.onError(e);
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        done = true;
        timeout.cancel(false);
    }

    @Override
    public synchronized void onCompleted() {
        if (!done) {
            finish(fail(Status.INVALID_ARGUMENT, pending != null
                    ? "the agent closed the stream without answering the challenge"
                    : "the agent closed the stream before sending params"));
        }
    }
}
