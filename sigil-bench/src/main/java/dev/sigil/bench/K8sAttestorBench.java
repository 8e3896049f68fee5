package dev.sigil.bench;

import com.sun.net.httpserver.HttpServer;
import dev.sigil.agent.workload.PeerCredentials;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadAttestorPlugin;
import dev.sigil.agent.workload.k8s.K8sWorkloadAttestorPlugin;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Latency of one {@code k8s} workload attestation (read {@code /proc/<pid>/cgroup}, find the pod and
 * container, look them up in the pod list, build the selectors) on a node with {@code --pods} pods of
 * two containers each: with a warm pod-list cache (the steady state: one kubelet request per
 * {@code pod_list_cache_ttl}), and cold (every attestation fetches and parses the whole list, as the
 * first caller after the cache expires does). The kubelet is a stand-in on 127.0.0.1 reached through the
 * read-only port, so the numbers leave TLS out (one handshake per cache refresh in production). See
 * bench/README.md section 20.
 *
 * <pre>java -cp sigil-bench.jar dev.sigil.bench.K8sAttestorBench [--pods 110] [--calls 200000] [--cold-calls 300]</pre>
 */
public final class K8sAttestorBench {
    private K8sAttestorBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--pods", "--calls", "--cold-calls"));
        int pods = options.positiveInt("--pods", 110);
        int calls = options.positiveInt("--calls", 200_000);
        int coldCalls = options.positiveInt("--cold-calls", 300);
        AtomicInteger requests = new AtomicInteger();
        try (TempDirectory dir = TempDirectory.create("sigil-k8s-bench")) {
            byte[] podList = podList(pods).getBytes(StandardCharsets.UTF_8);
            for (int pod = 0; pod < pods; pod++) {
                Path pidDir = Files.createDirectories(dir.resolve("proc/" + (1000 + pod)));
                Files.writeString(pidDir.resolve("cgroup"), "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                        + uid(pod).replace('-', '_') + ".slice/cri-containerd-" + containerId(pod, 1) + ".scope\n");
            }
            HttpServer kubelet = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
            kubelet.createContext("/pods", exchange -> {
                requests.incrementAndGet();
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, podList.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(podList);
                }
            });
            kubelet.start();
            try {
                System.out.printf("pod list: %d pods, %,d bytes%n", pods, podList.length);
                WorkloadAttestor warm = attestor(dir.resolve("proc"), kubelet.getAddress().getPort(), Duration.ofMinutes(1));
                run("warm cache", warm, pods, Math.min(calls, 20_000), false);
                int before = requests.get();
                run("warm cache", warm, pods, calls, true);
                System.out.printf("kubelet requests during the warm run: %d%n", requests.get() - before);
                WorkloadAttestor cold = attestor(dir.resolve("proc"), kubelet.getAddress().getPort(), Duration.ZERO);
                run("cold (fetch + parse every call)", cold, pods, Math.min(coldCalls, 50), false);
                run("cold (fetch + parse every call)", cold, pods, coldCalls, true);
            } finally {
                kubelet.stop(0);
            }
        }
    }

    private static WorkloadAttestor attestor(Path proc, int port, Duration ttl) {
        K8sWorkloadAttestorPlugin.Settings settings = new K8sWorkloadAttestorPlugin.Settings("127.0.0.1", null, port, null, null, null,
                null, null, ttl, 1, null, null);
        return new K8sWorkloadAttestorPlugin().create(settings, new WorkloadAttestorPlugin.Context(proc, Path.of("/etc")));
    }

    private static void run(String name, WorkloadAttestor attestor, int pods, int calls, boolean report) {
        long[] nanos = new long[calls];
        for (int i = 0; i < calls; i++) {
            int pod = ThreadLocalRandom.current().nextInt(pods);
            long start = System.nanoTime();
            int selectors = attestor.attest(new PeerCredentials(1000 + pod, 1000, 1000)).size();
            nanos[i] = System.nanoTime() - start;
            if (selectors < 9) {
                throw new IllegalStateException("pod " + pod + " got " + selectors + " selectors");
            }
        }
        if (report) {
            Arrays.sort(nanos);
            System.out.printf("%-34s %,9d calls  p50 %8.1f us  p99 %8.1f us  max %9.1f us%n", name, calls,
                    nanos[calls / 2] / 1e3, nanos[(int) (calls * 0.99)] / 1e3, nanos[calls - 1] / 1e3);
        }
    }

    private static String uid(int pod) {
        return String.format("%08x-0000-4000-8000-%012x", pod, pod);
    }

    private static String containerId(int pod, int container) {
        byte[] bytes = new byte[32];
        Arrays.fill(bytes, (byte) container);
        bytes[0] = (byte) (pod >> 8);
        bytes[1] = (byte) pod;
        return HexFormat.of().formatHex(bytes);
    }

    /** A kubelet {@code /pods} answer: each pod with labels, an app container and a sidecar, in the API's shape. */
    private static String podList(int pods) {
        StringBuilder json = new StringBuilder("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
        for (int pod = 0; pod < pods; pod++) {
            if (pod > 0) {
                json.append(',');
            }
            json.append("""
                    {"metadata":{"name":"app-%1$d-7d9f8b6c5-x2k4p","namespace":"team-%2$d","uid":"%3$s","resourceVersion":"%1$d",\
                    "labels":{"app":"app-%1$d","pod-template-hash":"7d9f8b6c5","tier":"backend"},\
                    "annotations":{"kubernetes.io/config.seen":"2026-12-05T20:14:03.512Z","kubernetes.io/config.source":"api"}},\
                    "spec":{"containers":[{"name":"app","image":"registry.example.com/app-%1$d:1.0"},\
                    {"name":"proxy","image":"envoyproxy/envoy:v1.31"}],"serviceAccountName":"app-%1$d","nodeName":"node-1"},\
                    "status":{"phase":"Running","podIP":"10.244.1.%4$d","containerStatuses":[\
                    {"name":"app","state":{"running":{"startedAt":"2026-12-05T20:14:07Z"}},"ready":true,"restartCount":0,\
                    "image":"registry.example.com/app-%1$d:1.0","imageID":"registry.example.com/app-%1$d@sha256:%5$s",\
                    "containerID":"containerd://%5$s","started":true},\
                    {"name":"proxy","state":{"running":{"startedAt":"2026-12-05T20:14:07Z"}},"ready":true,"restartCount":0,\
                    "image":"envoyproxy/envoy:v1.31","imageID":"docker.io/envoyproxy/envoy@sha256:%6$s",\
                    "containerID":"containerd://%6$s","started":true}],"qosClass":"Burstable"}}"""
                    .formatted(pod, pod % 8, uid(pod), pod % 250, containerId(pod, 1), containerId(pod, 2)));
        }
        return json.append("]}").toString();
    }
}
