package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sigil.proto.agent.v1.AttestParams;
import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.NodeAttestor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Attest conversation's protocol rules, without a network: misuse and time limit. */
class AttestCallTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<Object> received = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);

    /** An attestor that always challenges and never gets further (the path under test ends before admission). */
    private final NodeAttestor challenger = new NodeAttestor() {
        @Override
        public String type() {
            return "challenger";
        }

        @Override
        public AttestationStep begin(byte[] evidence, String actor) {
            return new AttestationStep.Challenge(new byte[32], response -> new AttestationStep.Malformed("unused"));
        }
    };

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    private AttestCall call(Duration limit) {
        StreamObserver<AttestResponse> out = new StreamObserver<>() {
            @Override
            public void onNext(AttestResponse value) {
                received.add(value);
            }

            @Override
            public void onError(Throwable t) {
                received.add(Status.fromThrowable(t));
                ended.countDown();
            }

            @Override
            public void onCompleted() {
                ended.countDown();
            }
        };
        return new AttestCall(Map.of("challenger", challenger), null, null, null, null, Duration.ZERO, "test", out, timer, limit);
    }

    private static AttestRequest params(String attestor) {
        return AttestRequest.newBuilder().setParams(AttestParams.newBuilder().setAttestor(attestor)
                .setPayload(ByteString.copyFromUtf8("evidence"))
                .setCsr(ByteString.copyFrom(AgentApiClient.csr(AgentApiClient.keys())))).build();
    }

    private Status finalStatus() throws InterruptedException {
        assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
        return (Status) received.get(received.size() - 1);
    }

    @Test
    void unansweredChallengeEndsWithDeadlineExceeded() throws Exception {
        AttestRequest params = params("challenger");
        AttestCall call = call(Duration.ofMillis(300));

        call.onNext(params);

        Status status = finalStatus();
        assertThat(received.get(0)).isInstanceOf(AttestResponse.class);
        assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(status.getDescription()).contains("the challenge was not answered");
        call.onNext(AttestRequest.newBuilder().setChallengeResponse(ByteString.copyFromUtf8("late")).build());
        assertThat(received).hasSize(2);
    }

    @Test
    void answerBeforeParamsIsInvalidArgument() throws Exception {
        call(Duration.ofSeconds(30)).onNext(AttestRequest.newBuilder().setChallengeResponse(ByteString.copyFromUtf8("x")).build());

        Status status = finalStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("the first attest message must carry params");
    }

    @Test
    void unknownAttestorIsInvalidArgumentNamingTheEnabledOnes() throws Exception {
        call(Duration.ofSeconds(30)).onNext(params("tpm"));

        Status status = finalStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).isEqualTo("node attestor 'tpm' is not enabled on this server; enabled: challenger");
    }

    @Test
    void streamClosedBeforeAnsweringIsInvalidArgument() throws Exception {
        AttestCall call = call(Duration.ofSeconds(30));
        call.onNext(params("challenger"));

        call.onCompleted();

        assertThat(finalStatus().getDescription()).contains("without answering the challenge");
    }
}
