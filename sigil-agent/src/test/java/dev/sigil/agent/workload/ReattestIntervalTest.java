package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.agent.workload.WorkloadDrift.Reason;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interval path of drift detection, which has no change notification: a uid change (setuid) seen
 * in a fake procfs holding this JVM's pid. The periodic re-attestation must catch it within one interval
 * and withdraw the identity: a process whose ids no longer match its connection's peer credentials gets
 * none, never the identity of its new uid.
 */
class ReattestIntervalTest {
    private static final int PID = (int) ProcessHandle.current().pid();
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final PeerCredentials OWN = WorkloadApiFixture.ownCredentials();
    private static final long OTHER_UID = OWN.uid() == 0 ? 4242 : 0;

    @TempDir
    Path dir;

    private FakeProc proc;
    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private final LinkedBlockingQueue<WorkloadDrift> drifts = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(OWN, 100, Files.writeString(dir.resolve("app"), "app"));
        fixture = new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc.root, dir.resolve("etc"))), proc.root, drifts::add,
                INTERVAL, Clock.systemUTC());
        fixture.identities.setEntries(new Entry(Set.of(Selector.of("unix", "uid:" + OWN.uid())), fixture.domain.x509("/billing")),
                new Entry(Set.of(Selector.of("unix", "uid:" + OTHER_UID)), fixture.domain.x509("/other-tools")));
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
    }

    @Test
    void uidChangeIsCaughtByTheIntervalAndEndsTheStreamWithoutTheNewUidsIdentity() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(((X509SVIDResponse) events.poll(5, TimeUnit.SECONDS)).getSvids(0).getSpiffeId())
                .isEqualTo("spiffe://example.org/billing");

        Files.writeString(proc.root.resolve(PID + "/status"), FakeProc.status(OTHER_UID, OWN.gid(), ""));

        assertThat(events.poll(INTERVAL.multipliedBy(5).toMillis(), TimeUnit.MILLISECONDS)).isInstanceOfSatisfying(Throwable.class, e -> {
            assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(Status.fromThrowable(e).getDescription()).contains("uids " + OTHER_UID).contains("connected as uid " + OWN.uid());
        });
        WorkloadDrift drift = drifts.poll(5, TimeUnit.SECONDS);
        assertThat(drift.reason()).isEqualTo(Reason.SELECTORS_CHANGED);
        assertThat(drift.selectorsBefore()).contains(Selector.of("unix", "uid:" + OWN.uid()));
        assertThat(drift.selectorsAfter()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void unreadableStateOfALiveProcessFailsClosed() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

        Files.delete(proc.root.resolve(PID + "/status")); // stat still names the process: alive, unreadable

        assertThat(events.poll(INTERVAL.multipliedBy(5).toMillis(), TimeUnit.MILLISECONDS)).isInstanceOfSatisfying(Throwable.class, e -> {
            assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(Status.fromThrowable(e).getDescription()).contains("no identity issued");
        });
        assertThat(drifts.poll(5, TimeUnit.SECONDS).selectorsAfter()).isEmpty();
    }
}
