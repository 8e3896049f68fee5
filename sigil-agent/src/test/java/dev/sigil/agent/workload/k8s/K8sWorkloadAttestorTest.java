package dev.sigil.agent.workload.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentConfigLoader;
import dev.sigil.agent.config.AgentEnvironment;
import dev.sigil.agent.testing.KubeletStandIn;
import dev.sigil.agent.workload.PeerCredentials;
import dev.sigil.agent.workload.WorkloadAttestationException;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadAttestorContract;
import dev.sigil.core.selector.Selector;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code k8s} attestor against a kubelet stand-in on 127.0.0.1 (HTTPS, its own CA, bearer token)
 * serving a pod list in the API's shape, with fake {@code /proc/<pid>/cgroup} files in the formats of
 * containerd, CRI-O and Docker on cgroup v1 and v2.
 */
class K8sWorkloadAttestorTest implements WorkloadAttestorContract {
    static final String BILLING_POD = "2f9a5b1c-3d4e-4f60-8a7b-9c0d1e2f3a4b";
    static final String BILLING_CONTAINER = "0c95c7ece1ce1a9750275ef1c6d7ad6b278f70d66592207783ffe7d58474cc01";
    private static final int PID = 4242;
    private static final PeerCredentials PEER = new PeerCredentials(PID, 1000, 1000);

    @TempDir
    Path dir;
    private KubeletStandIn kubelet;
    private Path proc;

    @BeforeEach
    void start() throws IOException {
        kubelet = new KubeletStandIn(dir.resolve("kubelet"));
        kubelet.serve(KubeletStandIn.fixture("podlist.json"));
        proc = Files.createDirectories(dir.resolve("proc"));
    }

    @AfterEach
    void stop() {
        kubelet.close();
    }

    /**
     * The contract's running-JVM case reads this JVM's pid, but the JVM runs in no pod: its cgroup is
     * given as that of the billing container (a fake proc root holding only that file), so the attestor
     * still reads the process's cgroup file and asks the real kubelet stand-in.
     */
    @Override
    public WorkloadAttestor attestor(Path procRoot) {
        Path root = procRoot;
        if (procRoot.equals(Path.of("/proc"))) {
            root = dir.resolve("jvm-proc");
            writeCgroup(root, (int) ProcessHandle.current().pid(), "containerd-v2-systemd");
        }
        return new K8sWorkloadAttestor(root, client(settings("")), Clock.systemUTC(), Duration.ofSeconds(5), 2, Duration.ofMillis(10));
    }

    private K8sWorkloadAttestorPlugin.Settings settings(String overrides) {
        String token = overrides.contains("token_file:") ? "" : "token_file: " + kubelet.tokenFile() + "\n";
        return Settings.parse("kubelet_secure_port: " + kubelet.port() + "\nkubelet_ca_file: " + kubelet.caFile() + "\n" + token
                + overrides);
    }

    private static KubeletClient client(K8sWorkloadAttestorPlugin.Settings settings) {
        return K8sWorkloadAttestorPlugin.kubelet(settings, Optional.empty());
    }

    private WorkloadAttestor attestor(K8sWorkloadAttestorPlugin.Settings settings, Clock clock) {
        return new K8sWorkloadAttestor(proc, client(settings), clock, settings.podListCacheTtl(), settings.maxPollAttempts(),
                settings.pollRetryInterval());
    }

    private WorkloadAttestor attestor() {
        return attestor(settings(""), Clock.systemUTC());
    }

    private static void writeCgroup(Path root, int pid, String fixture) {
        try {
            Path pidDir = Files.createDirectories(root.resolve(Integer.toString(pid)));
            Files.writeString(pidDir.resolve("cgroup"), KubeletStandIn.fixture("cgroup/" + fixture));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void inContainer(String fixture) {
        writeCgroup(proc, PID, fixture);
    }

    private static Selector k8s(String value) {
        return Selector.of("k8s", value);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "containerd-v2-systemd,    billing-7d9f8b6c5-x2k4p, billing",
        "containerd-v1-cgroupfs,   billing-7d9f8b6c5-x2k4p, billing",
        "containerd-v2-namespaced, billing-7d9f8b6c5-x2k4p, migrate",
        "crio-v2-systemd,          ledger-0,                ledger",
        "crio-v1-systemd,          ledger-0,                ledger",
        "docker-v1-cgroupfs,       legacy-5c4b3a,           legacy",
        "docker-v2-systemd,        legacy-5c4b3a,           legacy",
    })
    void cgroupPathsOfEveryRuntimeAndCgroupVersionLeadToTheirPodAndContainer(String fixture, String pod, String container) {
        inContainer(fixture);

        assertThat(attestor().attest(PEER)).contains(k8s("pod-name:" + pod), k8s("container-name:" + container));
    }

    @Test
    void aContainerIsDescribedByItsPodAndItsOwnStatus() {
        inContainer("containerd-v2-systemd");

        assertThat(attestor().attest(PEER)).containsExactlyInAnyOrder(
                k8s("ns:payments"), k8s("sa:billing"), k8s("pod-name:billing-7d9f8b6c5-x2k4p"), k8s("pod-uid:" + BILLING_POD),
                k8s("node-name:node-1"), k8s("pod-label:app:billing"), k8s("pod-label:pod-template-hash:7d9f8b6c5"),
                k8s("container-name:billing"), k8s("container-image:registry.example.com/payments/billing:2.3.1"),
                k8s("container-image-id:" + imageId()));
    }

    @Test
    void anEphemeralDebugContainerGetsItsOwnNameAndImageNotTheTargets() throws IOException {
        Files.createDirectories(proc.resolve(Integer.toString(PID)));
        Files.writeString(proc.resolve(PID + "/cgroup"), "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + BILLING_POD.replace('-', '_') + ".slice/cri-containerd-0b8e9e995d8d77f1e4770f0f79665aee6f3f70247b3735422daba73df4c3096f.scope\n");

        assertThat(attestor().attest(PEER)).contains(k8s("container-name:debugger-9kx2q"), k8s("container-image:docker.io/library/busybox:1.36"))
                .doesNotContain(k8s("container-name:billing"));
    }

    @Test
    void aProcessOutsideAnyPodGetsNoK8sSelectors() {
        inContainer("host-process");
        assertThat(attestor().attest(PEER)).isEmpty();

        inContainer("crio-conmon");
        assertThat(attestor().attest(PEER)).isEmpty();
        assertThat(kubelet.requests()).isZero();
    }

    @Test
    void aKubeletWhoseCertificateAnotherCaSignedIsNotTrusted() {
        inContainer("containerd-v2-systemd");
        try (KubeletStandIn impostor = new KubeletStandIn(dir.resolve("impostor"))) {
            impostor.serve(KubeletStandIn.fixture("podlist.json"));
            WorkloadAttestor attestor = attestor(Settings.parse("kubelet_secure_port: " + impostor.port() + "\nkubelet_ca_file: "
                    + kubelet.caFile() + "\ntoken_file: " + impostor.tokenFile() + "\n"), Clock.systemUTC());

            assertThatThrownBy(() -> attestor.attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                    .hasMessageContaining("https://127.0.0.1:" + impostor.port() + "/pods")
                    .hasMessageContaining("the kubelet cannot be verified")
                    .hasMessageContaining("does not verify against kubelet_ca_file");
        }
    }

    @Test
    void aKubeletCertificateThatDoesNotNameTheConfiguredServerIsNotTrusted() {
        inContainer("containerd-v2-systemd");
        WorkloadAttestor attestor = attestor(settings("kubelet_server_name: node-2\n"), Clock.systemUTC());

        assertThatThrownBy(() -> attestor.attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("does not name 'node-2'").hasMessageContaining("node-1");
        assertThat(attestor(settings("kubelet_server_name: node-1\n"), Clock.systemUTC()).attest(PEER)).isNotEmpty();
    }

    @Test
    void theNodeNameFromTheEnvironmentIsTheDefaultServerName() {
        inContainer("containerd-v2-systemd");
        K8sWorkloadAttestorPlugin.Settings settings = settings("");
        WorkloadAttestor named = new K8sWorkloadAttestor(proc, K8sWorkloadAttestorPlugin.kubelet(settings, Optional.of("node-1")),
                Clock.systemUTC(), Duration.ZERO, 1, Duration.ofMillis(10));
        WorkloadAttestor misnamed = new K8sWorkloadAttestor(proc, K8sWorkloadAttestorPlugin.kubelet(settings, Optional.of("node-9")),
                Clock.systemUTC(), Duration.ZERO, 1, Duration.ofMillis(10));

        assertThat(named.attest(PEER)).contains(k8s("node-name:node-1"));
        assertThatThrownBy(() -> misnamed.attest(PEER)).hasMessageContaining("does not name 'node-9'");
    }

    @Test
    void aTokenTheKubeletRejectsIsAClearErrorNamingTheTokenFileNotTheToken() throws IOException {
        inContainer("containerd-v2-systemd");
        Path stale = Files.writeString(dir.resolve("stale-token"), "eyJ.stale-token.sig\n");

        assertThatThrownBy(() -> attestor(settings("token_file: " + stale + "\n"), Clock.systemUTC()).attest(PEER))
                .isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("http 401").hasMessageContaining("token_file " + stale)
                .hasMessageNotContaining("stale-token.sig");
    }

    @Test
    void aMissingTokenFileIsAClearErrorAndNoRequestIsSent() {
        inContainer("containerd-v2-systemd");
        Path missing = dir.resolve("no-such-token");

        assertThatThrownBy(() -> attestor(settings("token_file: " + missing + "\n"), Clock.systemUTC()).attest(PEER))
                .isInstanceOf(WorkloadAttestationException.class).hasMessageContaining("cannot read token_file " + missing);
        assertThat(kubelet.requests()).isZero();
    }

    @Test
    void aRotatedTokenIsReadAtTheNextRequest() throws IOException {
        inContainer("containerd-v2-systemd");
        Path token = Files.writeString(dir.resolve("rotating-token"), "eyJ.old.sig");
        WorkloadAttestor attestor = attestor(settings("token_file: " + token + "\npod_list_cache_ttl: 0s\n"), Clock.systemUTC());
        assertThatThrownBy(() -> attestor.attest(PEER)).hasMessageContaining("http 401");

        Files.writeString(token, KubeletStandIn.TOKEN);

        assertThat(attestor.attest(PEER)).contains(k8s("ns:payments"));
    }

    @Test
    void theReadOnlyPortIsUsedOnlyWhenConfiguredAndGetsNoToken() throws Exception {
        inContainer("containerd-v2-systemd");
        java.util.concurrent.atomic.AtomicReference<String> authorization = new java.util.concurrent.atomic.AtomicReference<>("unset");
        com.sun.net.httpserver.HttpServer readOnly = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 4);
        byte[] body = KubeletStandIn.fixture("podlist.json").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        readOnly.createContext("/pods", exchange -> {
            authorization.set(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        readOnly.start();
        try {
            WorkloadAttestor attestor = attestor(settings("kubelet_read_only_port: " + readOnly.getAddress().getPort() + "\n"),
                    Clock.systemUTC());

            assertThat(attestor.attest(PEER)).contains(k8s("ns:payments"));
            assertThat(authorization.get()).isEqualTo("null");
            assertThat(kubelet.requests()).isZero();
        } finally {
            readOnly.stop(0);
        }
    }

    @Test
    void aPodNotYetListedIsAttestedOnceTheKubeletListsIt() throws Exception {
        inContainer("containerd-v2-systemd");
        kubelet.serve(KubeletStandIn.fixture("podlist.json").replace(BILLING_POD, "00000000-0000-4000-8000-000000000000"));
        WorkloadAttestor attestor = attestor(settings("max_poll_attempts: 500\npoll_retry_interval: 20ms\n"), Clock.systemUTC());

        CompletableFuture<Set<Selector>> attested = CompletableFuture.supplyAsync(() -> attestor.attest(PEER));
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(kubelet.requests()).isGreaterThanOrEqualTo(2));
        assertThat(attested).isNotDone();
        kubelet.serve(KubeletStandIn.fixture("podlist.json"));

        assertThat(attested.get(5, TimeUnit.SECONDS)).contains(k8s("pod-uid:" + BILLING_POD), k8s("container-name:billing"));
    }

    @Test
    void aContainerWhoseStatusIsNotYetReportedIsRetriedThenRefused() {
        writeCgroup(proc, PID, "containerd-v2-systemd");
        // the pod is listed, but its container has no containerID yet (ContainerCreating)
        kubelet.serve(KubeletStandIn.fixture("podlist.json").replace("\"containerd://" + BILLING_CONTAINER + "\"", "\"\""));
        WorkloadAttestor attestor = attestor(settings("max_poll_attempts: 3\npoll_retry_interval: 10ms\n"), Clock.systemUTC());

        assertThatThrownBy(() -> attestor.attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("container " + BILLING_CONTAINER + " of pod " + BILLING_POD)
                .hasMessageContaining("the pod has no such container").hasMessageContaining("after 3 attempt(s)");
        assertThat(kubelet.requests()).isEqualTo(3);
    }

    @Test
    void aPodNeverListedIsAnErrorAfterMaxPollAttempts() {
        inContainer("containerd-v2-systemd");
        kubelet.serve("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}");
        WorkloadAttestor attestor = attestor(settings("max_poll_attempts: 4\npoll_retry_interval: 10ms\n"), Clock.systemUTC());

        assertThatThrownBy(() -> attestor.attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("pid " + PID).hasMessageContaining("(no such pod)").hasMessageContaining("after 4 attempt(s)");
        assertThat(kubelet.requests()).isEqualTo(4);
    }

    @Test
    void aPodListLargerThanTheLimitIsRefusedWithoutSelectors() {
        inContainer("containerd-v2-systemd");
        WorkloadAttestor attestor = attestor(settings("max_pod_list_bytes: 2048\n"), Clock.systemUTC());

        assertThatThrownBy(() -> attestor.attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("larger than max_pod_list_bytes (2048 bytes)");
    }

    @Test
    void anAnswerThatIsNotAPodListIsRefused() {
        inContainer("containerd-v2-systemd");
        kubelet.serve("<html>login</html>");

        assertThatThrownBy(() -> attestor().attest(PEER)).isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("not a pod list");
    }

    @Test
    void thePodListIsCachedForItsTtlByTheInjectedClock() {
        inContainer("containerd-v2-systemd");
        MutableClock clock = MutableClock.atEpochOfTests();
        WorkloadAttestor attestor = attestor(settings("pod_list_cache_ttl: 5s\n"), clock);

        attestor.attest(PEER);
        clock.advance(Duration.ofMillis(4999));
        attestor.attest(PEER);
        assertThat(kubelet.requests()).isEqualTo(1);

        clock.advance(Duration.ofMillis(1));
        attestor.attest(PEER);
        assertThat(kubelet.requests()).isEqualTo(2);
    }

    @Test
    void aChangedImageIdShowsOnceTheCacheExpires() {
        inContainer("containerd-v2-systemd");
        MutableClock clock = MutableClock.atEpochOfTests();
        WorkloadAttestor attestor = attestor(settings("pod_list_cache_ttl: 5s\n"), clock);
        assertThat(attestor.attest(PEER)).contains(k8s("container-image-id:" + imageId()));

        kubelet.serve(KubeletStandIn.fixture("podlist.json").replace(imageId(), "registry.example.com/payments/billing@sha256:" + "e".repeat(64)));
        clock.advance(Duration.ofSeconds(5));

        assertThat(attestor.attest(PEER)).contains(k8s("container-image-id:registry.example.com/payments/billing@sha256:" + "e".repeat(64)))
                .doesNotContain(k8s("container-image-id:" + imageId()));
    }

    static String imageId() {
        String list = KubeletStandIn.fixture("podlist.json");
        int at = list.indexOf("\"registry.example.com/payments/billing@sha256:");
        return list.substring(at + 1, list.indexOf('"', at + 1));
    }

    /** Settings as the agent's configuration loader reads them from a {@code workload_attestors.k8s} block. */
    static final class Settings {
        static K8sWorkloadAttestorPlugin.Settings parse(String block) {
            try {
                Path file = Files.createTempFile("agent", ".yaml");
                String indented = block.lines().map(line -> "    " + line).collect(java.util.stream.Collectors.joining("\n"));
                Files.writeString(file, "trust_domain: example.org\ninsecure_bootstrap: true\nnode_attestor:\n  type: join_token\n"
                        + "  join_token: t\nworkload_attestors:\n  k8s:\n" + indented + "\n");
                AgentConfig config = AgentConfigLoader.load(Optional.of(file), AgentEnvironment.of(Map.of(), file.getParent()));
                Files.delete(file);
                return (K8sWorkloadAttestorPlugin.Settings) config.workloadAttestors().blocks().get("k8s");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
