package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509BundlesRequest;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pid reuse guard: a fake /proc holds this JVM's pid (the kernel's peer credentials are real), and
 * its start time is changed to play a pid recycled by another process.
 */
class PidReuseGuardTest {
    private static final int PID = (int) ProcessHandle.current().pid();
    private static final Selector WORKLOAD = Selector.of("unix", "uid:4242");

    @TempDir
    Path dir;

    private FakeProc proc;
    private final AtomicBoolean reuseDuringAttestation = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicInteger reuses = new java.util.concurrent.atomic.AtomicInteger();
    private WorkloadApiFixture fixture;
    private ManagedChannel channel;

    /** Reports {@link #WORKLOAD}; when asked, the pid is "reused" while it attests. */
    private final WorkloadAttestor attestor = new WorkloadAttestor() {
        @Override
        public String type() {
            return "unix";
        }

        @Override
        public Set<Selector> attest(PeerCredentials peer) {
            int pid = peer.pid();
            if (reuseDuringAttestation.get()) {
                try {
                    proc.setStartTime(pid, 1000 + reuses.incrementAndGet());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return Set.of(WORKLOAD);
        }
    };

    @BeforeEach
    void start() throws IOException {
        proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(WorkloadApiFixture.ownCredentials(), 100, Files.writeString(dir.resolve("app"), "app"));
        fixture = new WorkloadApiFixture(dir, List.of(attestor), proc.root, Clock.systemUTC());
        fixture.identities.setEntries(new Entry(Set.of(WORKLOAD), fixture.domain.x509("/billing")));
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
    }

    @Test
    void unchangedProcessGetsItsIdentity() {
        X509SVIDResponse response = fixture.stub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
        assertThat(response.getSvids(0).getSpiffeId()).isEqualTo("spiffe://example.org/billing");
    }

    @Test
    void pidReusedDuringAttestationGetsNoIdentity() {
        reuseDuringAttestation.set(true);
        assertThatThrownBy(() -> fixture.stub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> fixture.stub(channel).fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience("a").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void pidReusedAfterConnectGetsNoIdentity() throws IOException {
        fixture.stub(channel).fetchX509Bundles(X509BundlesRequest.getDefaultInstance()).next(); // connected, start time recorded

        proc.setStartTime(PID, 555);

        assertThatThrownBy(() -> fixture.stub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("pid " + PID).contains("names another process");
                });
    }

    @Test
    void exitedProcessGetsNoIdentity() throws IOException {
        proc.remove(PID);
        assertThatThrownBy(() -> fixture.stub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("pid " + PID);
                });
    }

    @Test
    void openStreamIsClosedWhenThePidIsReusedBeforeTheNextUpdate() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

        proc.setStartTime(PID, 555);
        fixture.identities.setEntries(new Entry(Set.of(WORKLOAD), fixture.domain.x509("/billing")));

        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(events).isEmpty();
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.identities.listenerCount()).isZero());
    }

    @Test
    void startTimeIsField22EvenWhenTheCommandHasParentheses() {
        assertThat(new ProcFs(proc.root).startTime(PID)).contains(100L);
        assertThat(new ProcFs(proc.root).startTime(1)).isEmpty();
    }
}
