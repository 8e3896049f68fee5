package dev.sigil.agent.workload.k8s;

import dev.sigil.agent.workload.PeerCredentials;
import dev.sigil.agent.workload.WorkloadAttestationException;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.core.Printable;
import dev.sigil.core.selector.InvalidSelectorException;
import dev.sigil.core.selector.Selector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code k8s} workload attestor: the caller's pod and container from its cgroup
 * ({@link PodCgroups}), looked up in the kubelet's pod list, give {@code ns}, {@code sa},
 * {@code pod-name}, {@code pod-uid}, {@code pod-label:<key>:<value>} (one per label),
 * {@code node-name}, {@code container-name}, {@code container-image} and {@code container-image-id}.
 *
 * <p>Guarantees: the selectors are all of one pod and one of its containers as the verified kubelet
 * reports them, or there are none. A process whose cgroup names no pod container (a host process) gets
 * no {@code k8s} selectors; a container the kubelet does not list for that pod uid, after
 * {@code maxPollAttempts} lookups {@code pollRetryInterval} apart (a new pod's status appears in the
 * kubelet a moment after its process starts), is an attestation failure, as is any kubelet failure:
 * never a partial result. The pod list is cached for {@code cacheTtl} (by the injected clock); a miss
 * refreshes it at the next attempt, so retries always see a newer list than the one that missed.
 * Because the drift monitor re-attests tracked workloads, a container whose image id changes in the
 * kubelet's answer is reported as drift within the re-attestation interval plus {@code cacheTtl}.
 */
final class K8sWorkloadAttestor implements WorkloadAttestor {
    static final String TYPE = "k8s";

    /** Where pod lists come from: the kubelet, or a stand-in in tests. */
    @FunctionalInterface
    interface PodSource {
        /** The node's pods now; a {@link WorkloadAttestationException} when they cannot be listed. */
        PodList pods();
    }

    private record Snapshot(PodList pods, Instant fetchedAt, long generation) {
    }

    private final Path procRoot;
    private final PodSource kubelet;
    private final Clock clock;
    private final Duration cacheTtl;
    private final int maxPollAttempts;
    private final Duration pollRetryInterval;
    private final Object fetching = new Object();
    private volatile Snapshot snapshot;

    K8sWorkloadAttestor(Path procRoot, PodSource kubelet, Clock clock, Duration cacheTtl, int maxPollAttempts, Duration pollRetryInterval) {
        if (maxPollAttempts < 1) {
            throw new IllegalArgumentException("max_poll_attempts is " + maxPollAttempts + "; it must be at least 1");
        }
        this.procRoot = procRoot;
        this.kubelet = kubelet;
        this.clock = clock;
        this.cacheTtl = cacheTtl;
        this.maxPollAttempts = maxPollAttempts;
        this.pollRetryInterval = pollRetryInterval;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Set<Selector> attest(PeerCredentials peer) {
        int pid = peer.pid();
        Optional<PodCgroups.PodContainer> where;
        try {
            where = PodCgroups.find(cgroupLines(pid));
        } catch (IllegalArgumentException e) {
            throw new WorkloadAttestationException("pid " + pid + " cannot be placed in one container: " + e.getMessage(), e);
        }
        if (where.isEmpty()) {
            return Set.of(); // not in a pod: other attestors may vouch for it, this one has nothing to say
        }
        String podUid = where.get().podUid();
        String containerId = where.get().containerId();
        Snapshot seen = cached();
        for (int attempt = 1; ; attempt++) {
            Optional<PodList.Pod> pod = seen.pods().pod(podUid);
            Optional<PodList.ContainerStatus> container = pod.flatMap(p -> p.container(containerId));
            if (container.isPresent()) {
                return selectors(pod.get(), container.get(), pid);
            }
            if (attempt >= maxPollAttempts) {
                throw new WorkloadAttestationException("pid " + pid + " runs in container " + containerId + " of pod " + podUid
                        + ", which the kubelet does not list " + (pod.isEmpty() ? "(no such pod)" : "(the pod has no such container)")
                        + " after " + attempt + " attempt(s) " + pollRetryInterval.toMillis() + " ms apart (max_poll_attempts)");
            }
            pause(pid);
            seen = refreshedAfter(seen);
        }
    }

    private List<String> cgroupLines(int pid) {
        try {
            return Files.readAllLines(procRoot.resolve(Integer.toString(pid)).resolve("cgroup"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read cgroup of pid " + pid + ": " + Printable.reason(e), e);
        }
    }

    /** The cached list while younger than the TTL, else a fresh one. */
    private Snapshot cached() {
        Snapshot current = snapshot;
        if (current != null && clock.instant().isBefore(current.fetchedAt().plus(cacheTtl))) {
            return current;
        }
        synchronized (fetching) {
            current = snapshot;
            if (current != null && clock.instant().isBefore(current.fetchedAt().plus(cacheTtl))) {
                return current;
            }
            return fetch(current);
        }
    }

    /** A list fetched after {@code missed}: another caller's newer fetch, or a new one. */
    private Snapshot refreshedAfter(Snapshot missed) {
        synchronized (fetching) {
            Snapshot current = snapshot;
            if (current != null && current.generation() > missed.generation()) {
                return current;
            }
            return fetch(current);
        }
    }

    private Snapshot fetch(Snapshot previous) {
        PodList pods = kubelet.pods();
        Snapshot fresh = new Snapshot(pods, clock.instant(), previous == null ? 1 : previous.generation() + 1);
        snapshot = fresh;
        return fresh;
    }

    private void pause(int pid) {
        try {
            Thread.sleep(pollRetryInterval);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WorkloadAttestationException("interrupted while waiting for the kubelet to list the pod of pid " + pid, e);
        }
    }

    private static Set<Selector> selectors(PodList.Pod pod, PodList.ContainerStatus container, int pid) {
        Set<Selector> selectors = new HashSet<>();
        try {
            add(selectors, "ns", pod.metadata().namespace());
            add(selectors, "sa", pod.spec().serviceAccountName());
            add(selectors, "pod-name", pod.metadata().name());
            add(selectors, "pod-uid", pod.metadata().uid());
            add(selectors, "node-name", pod.spec().nodeName());
            for (Map.Entry<String, String> label : pod.metadata().labels().entrySet()) {
                add(selectors, "pod-label:" + label.getKey(), label.getValue() == null ? "" : label.getValue());
            }
            add(selectors, "container-name", container.name());
            add(selectors, "container-image", container.image());
            add(selectors, "container-image-id", container.imageId());
        } catch (InvalidSelectorException e) {
            throw new WorkloadAttestationException("the kubelet's record of the pod of pid " + pid + " does not make selectors: "
                    + e.getMessage(), e);
        }
        return Set.copyOf(selectors);
    }

    private static void add(Set<Selector> selectors, String name, String value) {
        if (value != null && !(value.isEmpty() && !name.startsWith("pod-label:"))) {
            selectors.add(Selector.of(TYPE, name + ":" + value));
        }
    }
}
