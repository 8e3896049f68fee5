package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.testing.KubeletStandIn;
import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.agent.workload.WorkloadDrift.Reason;
import dev.sigil.agent.workload.k8s.K8sWorkloadAttestorPlugin;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
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
 * The {@code k8s} attestor behind the real Workload API. A pod's image changing under a workload that
 * holds an identity: the
 * {@code k8s} attestor (built by its plugin) reads this JVM's cgroup from a fake proc root that places it
 * in the billing container, and asks a kubelet stand-in over verified HTTPS. When the kubelet starts
 * reporting another image id for that container, the drift monitor's re-attestation withdraws the
 * identity from the open stream and reports the drift.
 */
class K8sWorkloadApiTest {
    private static final int OWN_PID = (int) ProcessHandle.current().pid();
    private static final String NEW_IMAGE_ID = "registry.example.com/payments/billing@sha256:" + "e".repeat(64);

    @TempDir
    Path dir;
    private KubeletStandIn kubelet;
    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private final LinkedBlockingQueue<WorkloadDrift> drifts = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        kubelet = new KubeletStandIn(dir.resolve("kubelet"));
        kubelet.serve(KubeletStandIn.fixture("podlist.json"));
        Path k8sProc = Files.createDirectories(dir.resolve("proc/" + OWN_PID)).getParent();
        Files.writeString(k8sProc.resolve(OWN_PID + "/cgroup"), KubeletStandIn.fixture("cgroup/containerd-v2-systemd"));
        this.k8sProc = k8sProc;
    }

    private Path k8sProc;

    /** The Workload API with the unix attestor and a k8s attestor trusting {@code kubeletCa}. */
    private void serve(Path kubeletCa) {
        K8sWorkloadAttestorPlugin plugin = new K8sWorkloadAttestorPlugin();
        WorkloadAttestor k8s = plugin.create(new K8sWorkloadAttestorPlugin.Settings(null, kubelet.port(), null, kubeletCa, null,
                kubelet.tokenFile(), null, null, Duration.ZERO, 1, null, null), new WorkloadAttestorPlugin.Context(k8sProc, Path.of("/etc")));
        Path proc = Path.of("/proc");
        fixture = new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), k8s), proc, drifts::add,
                Duration.ofMillis(200), Clock.systemUTC());
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (fixture != null) {
            WorkloadApiFixture.shutdown(channel);
            fixture.close();
        }
        kubelet.close();
    }

    @Test
    void aCallerWhoseKubeletCannotBeVerifiedGetsNoIdentity() throws Exception {
        try (KubeletStandIn other = new KubeletStandIn(dir.resolve("other"))) {
            serve(other.caFile()); // the agent trusts another CA than the one that signed the kubelet's certificate
        }
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/any-process-of-this-user")),
                new Entry(Set.of(Selector.of("k8s", "ns:payments")), fixture.domain.x509("/billing")));
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));

        Object event = events.poll(10, TimeUnit.SECONDS);

        assertThat(event).isInstanceOfSatisfying(Throwable.class, e -> {
            assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(Status.fromThrowable(e).getDescription()).contains("the kubelet cannot be verified")
                    .doesNotContain(KubeletStandIn.TOKEN);
        });
        assertThat(kubelet.requests()).as("no request reaches an unverified kubelet's handler").isZero();
    }

    @Test
    void aContainerWhoseImageIdChangesLosesTheIdentityItWasServedAndTheDriftIsReported() throws Exception {
        serve(kubelet.caFile());
        Selector oldImage = Selector.of("k8s", "container-image-id:" + imageId());
        fixture.identities.setEntries(new Entry(Set.of(Selector.of("k8s", "ns:payments"), oldImage), fixture.domain.x509("/billing")));
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(((X509SVIDResponse) events.poll(5, TimeUnit.SECONDS)).getSvids(0).getSpiffeId())
                .isEqualTo("spiffe://example.org/billing");

        kubelet.serve(KubeletStandIn.fixture("podlist.json").replace(imageId(), NEW_IMAGE_ID));

        Object event = events.poll(5, TimeUnit.SECONDS);
        assertThat(event).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        WorkloadDrift drift = drifts.poll(5, TimeUnit.SECONDS);
        assertThat(drift).isNotNull();
        assertThat(drift.reason()).isEqualTo(Reason.SELECTORS_CHANGED);
        assertThat(drift.spiffeIdsBefore()).containsExactly(SpiffeId.parse("spiffe://example.org/billing"));
        assertThat(drift.selectorsBefore()).contains(oldImage);
        assertThat(drift.selectorsAfter()).contains(Selector.of("k8s", "container-image-id:" + NEW_IMAGE_ID)).doesNotContain(oldImage);
    }

    private static String imageId() {
        String list = KubeletStandIn.fixture("podlist.json");
        int at = list.indexOf("\"registry.example.com/payments/billing@sha256:");
        return list.substring(at + 1, list.indexOf('"', at + 1));
    }
}
