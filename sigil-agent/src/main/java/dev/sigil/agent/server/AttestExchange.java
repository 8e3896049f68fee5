package dev.sigil.agent.server;

import com.google.protobuf.ByteString;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.AttestParams;
import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One Attest stream: opens with the attestor's evidence and the CSR, answers each challenge with
 * {@link NodeAttestorClient#respond}, and completes {@link #result()} with the server's agent SVID or
 * the failure. Sends are serialized (the first from the caller, answers from gRPC's callback thread).
 */
final class AttestExchange implements StreamObserver<AttestResponse> {
    private final NodeAttestorClient attestor;
    private final CompletableFuture<AgentSvid> result = new CompletableFuture<>();
    private StreamObserver<AttestRequest> requests;

    private AttestExchange(NodeAttestorClient attestor) {
        this.attestor = attestor;
    }

    /** Starts the exchange on the stream that {@code open} returns for the response observer. */
    static AttestExchange start(NodeAttestorClient attestor, byte[] csr,
                                Function<StreamObserver<AttestResponse>, StreamObserver<AttestRequest>> open) {
        AttestExchange exchange = new AttestExchange(attestor);
        // read before the stream opens: evidence that cannot be read (a missing token file) opens nothing
        byte[] evidence = attestor.evidence();
        synchronized (exchange) {
            exchange.requests = open.apply(exchange);
            exchange.requests.onNext(AttestRequest.newBuilder().setParams(AttestParams.newBuilder()
                    .setAttestor(attestor.type())
                    .setPayload(ByteString.copyFrom(evidence))
                    .setCsr(ByteString.copyFrom(csr))).build());
        }
        return exchange;
    }

    CompletableFuture<AgentSvid> result() {
        return result;
    }

    @Override
    public synchronized void onNext(AttestResponse response) {
        switch (response.getStepCase()) {
            case CHALLENGE -> {
                byte[] answer;
                try {
                    answer = attestor.respond(response.getChallenge().toByteArray());
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                    requests.onError(Status.CANCELLED.withDescription("the attestor cannot answer the challenge").asRuntimeException());
                    return;
                }
                requests.onNext(AttestRequest.newBuilder().setChallengeResponse(ByteString.copyFrom(answer)).build());
            }
            case RESULT -> {
                result.complete(response.getResult());
                requests.onCompleted();
            }
            default -> result.completeExceptionally(new AgentServerException("server sent an empty attestation step", false, null));
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        result.completeExceptionally(new AgentServerException("server ended attestation without a result", false, null));
    }
}
