package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.agent.workload.WorkloadDrift.Reason;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift detection against a real child process: a copy of {@code sleep} runs from a temp directory and
 * this JVM connects to the Workload API on its behalf (a fake procfs root maps this JVM's pid, which
 * the kernel reports as the peer, to the child's real {@code /proc/<pid>} directory, so the real unix
 * attestor reads the child's uid, binary path and sha256). The test then replaces the child's binary
 * on disk, or ends the child, and watches the stream and the drift reports.
 */
class DriftDetectionTest {
    private static final int OWN_PID = (int) ProcessHandle.current().pid();
    private static final Duration TARGET = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private Process child;
    private Path binary;
    private Selector sha256;
    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private final LinkedBlockingQueue<WorkloadDrift> drifts = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        binary = Files.createDirectories(dir.resolve("bin")).resolve("app");
        Files.copy(Path.of("/bin/sleep"), binary);
        binary.toFile().setExecutable(true);
        sha256 = Selector.of("unix", "sha256:" + sha256(binary));
        child = new ProcessBuilder(binary.toString(), "300").start();
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Files.createSymbolicLink(proc.resolve(Integer.toString(OWN_PID)), Path.of("/proc", Long.toString(child.pid())));
        fixture = new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)),
                proc, drifts::add, Duration.ofMillis(300), Clock.systemUTC());
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
        child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    @Test
    void replacedBinaryEndsTheStreamWithinTheTarget() throws Exception {
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid(), sha256), fixture.domain.x509("/billing")));
        LinkedBlockingQueue<Object> events = openX509Stream();
        assertThat(((X509SVIDResponse) events.poll(5, TimeUnit.SECONDS)).getSvids(0).getSpiffeId())
                .isEqualTo("spiffe://example.org/billing");

        long replaced = System.nanoTime();
        replaceBinary();

        Object event = events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS);
        long elapsedMillis = (System.nanoTime() - replaced) / 1_000_000;
        assertThat(event).isInstanceOfSatisfying(Throwable.class, e -> {
            assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(Status.fromThrowable(e).getDescription()).contains("no identity issued");
        });
        assertThat(elapsedMillis).isLessThan(TARGET.toMillis());

        WorkloadDrift drift = drifts.poll(5, TimeUnit.SECONDS);
        assertThat(drift).isNotNull();
        assertThat(drift.reason()).isEqualTo(Reason.SELECTORS_CHANGED);
        assertThat(drift.pid()).isEqualTo(OWN_PID);
        assertThat(drift.spiffeIdsBefore()).containsExactly(SpiffeId.parse("spiffe://example.org/billing"));
        assertThat(drift.selectorsBefore()).contains(sha256, Selector.of("unix", "path:" + binary));
        assertThat(drift.selectorsAfter()).doesNotContain(sha256).contains(WorkloadApiFixture.ownUid());
    }

    @Test
    void driftedStreamCarriesTheIdentitiesTheNewSelectorsStillMatch() throws Exception {
        fixture.identities.setEntries(
                new Entry(Set.of(WorkloadApiFixture.ownUid(), sha256), fixture.domain.x509("/billing")),
                new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/any-process-of-this-user")));
        LinkedBlockingQueue<Object> events = openX509Stream();
        assertThat(ids((X509SVIDResponse) events.poll(5, TimeUnit.SECONDS)))
                .containsExactlyInAnyOrder("spiffe://example.org/billing", "spiffe://example.org/any-process-of-this-user");

        replaceBinary();

        assertThat(ids((X509SVIDResponse) events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS)))
                .containsExactly("spiffe://example.org/any-process-of-this-user");
        assertThat(drifts.poll(5, TimeUnit.SECONDS).spiffeIdsBefore()).hasSize(2);
    }

    @Test
    void replacedBinaryEndsTheEnvoySecretStreamAndReportsTheServedSvid() throws Exception {
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid(), sha256), fixture.domain.x509("/billing")));
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        io.grpc.stub.StreamObserver<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest> requests =
                io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc.newStub(channel)
                        .streamSecrets(WorkloadApiSemanticsTest.collect(events));
        requests.onNext(io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.newBuilder().addResourceNames("default").build());
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse.class);

        replaceBinary();

        assertThat(events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        WorkloadDrift drift = drifts.poll(5, TimeUnit.SECONDS);
        assertThat(drift).isNotNull();
        assertThat(drift.reason()).isEqualTo(Reason.SELECTORS_CHANGED);
        assertThat(drift.spiffeIdsBefore()).containsExactly(SpiffeId.parse("spiffe://example.org/billing"));
    }

    @Test
    void exitedProcessLosesItsStreamAndIsReportedAsExited() throws Exception {
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid(), sha256), fixture.domain.x509("/billing")));
        LinkedBlockingQueue<Object> events = openX509Stream();
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

        child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);

        assertThat(events.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        WorkloadDrift drift = drifts.poll(5, TimeUnit.SECONDS);
        assertThat(drift.reason()).isEqualTo(Reason.EXITED);
        assertThat(drift.selectorsAfter()).isEmpty();
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.server.monitoredWorkloads()).isZero());
    }

    @Test
    void workloadThatOnlyFetchedAJwtSvidIsStillWatched() throws Exception {
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid(), sha256), fixture.domain.x509("/billing")));
        fixture.stub(channel).fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience("db").build());

        replaceBinary();

        WorkloadDrift drift = drifts.poll(TARGET.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(drift).isNotNull();
        assertThat(drift.reason()).isEqualTo(Reason.SELECTORS_CHANGED);
        assertThat(drift.spiffeIdsBefore()).containsExactly(SpiffeId.parse("spiffe://example.org/billing"));
    }

    @Test
    void workloadWithoutAnIdentityIsNotReported() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509Bundles(dev.sigil.proto.workload.X509BundlesRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(events.poll(5, TimeUnit.SECONDS)).isNotNull();

        replaceBinary();
        // wait until two full re-attestation passes ran after the change, not a guessed time
        long after = fixture.server.driftPasses() + 2;
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(fixture.server.driftPasses()).isGreaterThanOrEqualTo(after));

        assertThat(fixture.server.monitoredWorkloads()).as("the caller was re-attested in those passes").isPositive();
        assertThat(drifts).isEmpty();
        assertThat(events).isEmpty(); // bundles are public: the bundle stream carries on unchanged
    }

    private LinkedBlockingQueue<Object> openX509Stream() {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        return events;
    }

    /** Replaces the running binary the way deployments do: write a new file, rename it over the old one. */
    private void replaceBinary() throws IOException {
        Path replacement = binary.resolveSibling("app.new");
        Files.copy(Path.of("/bin/true"), replacement, StandardCopyOption.REPLACE_EXISTING);
        Files.move(replacement, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<String> ids(X509SVIDResponse response) {
        return response.getSvidsList().stream().map(svid -> svid.getSpiffeId()).toList();
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            digest.update(in.readAllBytes());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
