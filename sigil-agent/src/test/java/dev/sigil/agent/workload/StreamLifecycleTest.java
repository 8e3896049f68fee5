package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.proto.workload.JWTBundlesRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509BundlesRequest;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streams come and go without leaving listeners or threads behind; changes reach every open stream. */
class StreamLifecycleTest {
    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;

    @BeforeEach
    void start() {
        fixture = WorkloadApiFixture.real(dir);
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void manyStreamOpensAndCancelsLeaveNoListenersOrThreads() throws Exception {
        ManagedChannel channel = fixture.channel();
        var stub = SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader());
        cycles(stub, 200);
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(fixture.identities.listenerCount()).isZero());
        int threadsAfterWarmUp = Thread.activeCount();

        cycles(stub, 1800);
        // and connections that go away without cancelling their streams
        for (int i = 0; i < 20; i++) {
            ManagedChannel shortLived = fixture.channel();
            CountDownLatch first = new CountDownLatch(1);
            SpiffeWorkloadAPIGrpc.newStub(shortLived).withInterceptors(WorkloadApiFixture.securityHeader())
                    .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), onFirst(first));
            assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
            WorkloadApiFixture.shutdown(shortLived);
        }

        Eventually.within(Duration.ofSeconds(10), () -> assertThat(fixture.identities.listenerCount()).isZero());
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsAfterWarmUp + 2);
        WorkloadApiFixture.shutdown(channel);
    }

    /** Opens a stream, waits for its first message (every third one is cancelled at once), then cancels. */
    private static void cycles(SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIStub stub, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            Context.CancellableContext context = Context.current().withCancellation();
            CountDownLatch first = new CountDownLatch(1);
            int kind = i % 3;
            context.run(() -> {
                switch (kind) {
                    case 0 -> stub.fetchX509SVID(X509SVIDRequest.getDefaultInstance(), onFirst(first));
                    case 1 -> stub.fetchX509Bundles(X509BundlesRequest.getDefaultInstance(), onFirst(first));
                    default -> stub.fetchJWTBundles(JWTBundlesRequest.getDefaultInstance(), onFirst(first));
                }
            });
            if (i % 7 != 0) {
                assertThat(first.await(5, TimeUnit.SECONDS)).as("first message of stream %d", i).isTrue();
            }
            context.cancel(null);
        }
    }

    @Test
    void aChangeReachesEveryOpenStreamOnceForABurst() throws Exception {
        ManagedChannel channel = fixture.channel();
        var stub = SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader());
        List<LinkedBlockingQueue<Object>> streams = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
            stub.fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
            assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);
            streams.add(events);
        }

        var rotated = fixture.domain.x509("/billing");
        byte[] rotatedDer = rotated.chain().get(0).getEncoded();
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), rotated));
        for (int i = 0; i < 50; i++) {
            fixture.identities.changed(); // a burst of notifications without a new state
        }

        for (LinkedBlockingQueue<Object> events : streams) {
            assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(X509SVIDResponse.class, response ->
                    assertThat(response.getSvids(0).getX509Svid().toByteArray()).isEqualTo(rotatedDer));
        }
        // Identical states are not re-sent. Sends on a stream are ordered, so a copy of the rotated state
        // caused by the burst would arrive before the next, different state: that one must come next.
        var marker = fixture.domain.x509("/marker");
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), marker));
        for (LinkedBlockingQueue<Object> events : streams) {
            assertThat(events.poll(5, TimeUnit.SECONDS)).as("the message after the burst's one").isInstanceOfSatisfying(
                    X509SVIDResponse.class, response -> assertThat(response.getSvids(0).getSpiffeId()).isEqualTo("spiffe://example.org/marker"));
        }
        WorkloadApiFixture.shutdown(channel);
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(fixture.identities.listenerCount()).isZero());
    }

    @Test
    void closingTheServerEndsOpenStreamsAndUnregistersThem() throws Exception {
        ManagedChannel channel = fixture.channel();
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

        fixture.server.close();

        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(Throwable.class);
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.identities.listenerCount()).isZero());
        assertThat(fixture.server.socketPath()).doesNotExist();
        WorkloadApiFixture.shutdown(channel);
    }

    /**
     * The agent stops its Workload API from its own watcher thread, which it has just interrupted (shutting the
     * watcher down): closing from an interrupted thread must still end every open stream with an error.
     */
    @Test
    void closingFromAnInterruptedThreadStillEndsOpenStreams() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (WorkloadApiFixture other = WorkloadApiFixture.real(dir.resolve("round-" + round))) {
                other.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), other.domain.x509("/billing")));
                ManagedChannel channel = other.channel();
                LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
                SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                        .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
                assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

                Thread closer = new Thread(() -> {
                    Thread.currentThread().interrupt();
                    other.server.close();
                });
                closer.start();
                closer.join(10_000);

                assertThat(events.poll(5, TimeUnit.SECONDS)).as("what the open stream got in round " + round)
                        .isInstanceOf(Throwable.class);
                WorkloadApiFixture.shutdown(channel);
            }
        }
    }

    private static <T> StreamObserver<T> onFirst(CountDownLatch first) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                first.countDown();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        };
    }
}
