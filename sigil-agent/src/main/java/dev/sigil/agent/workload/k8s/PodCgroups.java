package dev.sigil.agent.workload.k8s;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the pod and container a process runs in from its {@code /proc/<pid>/cgroup} lines, in the path
 * formats the kubelet's cgroup drivers and the container runtimes write, on cgroup v1 (one line per
 * hierarchy) and v2 (one {@code 0::} line):
 * <ul>
 *   <li>systemd driver: {@code /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/
 *       cri-containerd-<id>.scope} (pod uid with '_' for '-'), {@code crio-<id>.scope}, {@code docker-<id>.scope};</li>
 *   <li>cgroupfs driver: {@code /kubepods/burstable/pod<uid>/<id>};</li>
 *   <li>either seen from inside a cgroup namespace, where the {@code kubepods} prefix is cut off.</li>
 * </ul>
 * The pod uid is the {@code pod}-prefixed uuid segment; the container id is the 64-hex last segment
 * after any runtime prefix and {@code .scope} suffix. A line whose last segment is not a container id
 * (a {@code crio-conmon-<id>.scope} monitor, a pod's own slice) names no container.
 *
 * <p>Security note: a cgroup path is kernel state, not caller input, but a process allowed to create
 * cgroups (a delegated subtree) could choose names. The attestor therefore treats the result only as
 * the key to look up in the kubelet's pod list: a container id that the kubelet does not report for
 * that pod uid yields no identity.
 */
final class PodCgroups {
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-f]{8}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{12}");
    private static final Pattern POD_SEGMENT = Pattern.compile("(?:^|[-_.])pod(" + UUID.pattern() + ")(?:\\.slice)?$");
    private static final Pattern CONTAINER_SEGMENT =
            Pattern.compile("^(?:(?:cri-containerd|crio|docker|containerd|libpod)-)?([0-9a-f]{64})(?:\\.scope)?$");

    private PodCgroups() {
    }

    /** Where a process runs: the pod uid (lower case, dashed) and the container id. */
    record PodContainer(String podUid, String containerId) {
    }

    /**
     * The pod and container the cgroup lines place the process in; empty when no line names both (a
     * host process, the pod's infrastructure, a process outside Kubernetes).
     *
     * @throws IllegalArgumentException when lines place the process in different containers
     */
    static Optional<PodContainer> find(List<String> cgroupLines) {
        PodContainer found = null;
        for (String line : cgroupLines) {
            String[] fields = line.split(":", 3); // hierarchy-id:controllers:path; the path may hold ':'
            if (fields.length < 3) {
                continue;
            }
            Optional<PodContainer> here = fromPath(fields[2]);
            if (here.isEmpty()) {
                continue;
            }
            if (found != null && !found.equals(here.get())) {
                throw new IllegalArgumentException("cgroup paths name two containers (" + found.containerId() + " in pod "
                        + found.podUid() + " and " + here.get().containerId() + " in pod " + here.get().podUid() + ")");
            }
            found = here.get();
        }
        return Optional.ofNullable(found);
    }

    /** The pod and container one cgroup path names, if it names both. */
    static Optional<PodContainer> fromPath(String path) {
        String[] segments = path.split("/");
        if (segments.length < 2) {
            return Optional.empty();
        }
        Matcher container = CONTAINER_SEGMENT.matcher(segments[segments.length - 1]);
        if (!container.matches()) {
            return Optional.empty();
        }
        // the pod segment is the container's parent (cgroupfs: pod<uid>; systemd: kubepods-<qos>-pod<uid>.slice)
        Matcher pod = POD_SEGMENT.matcher(segments[segments.length - 2]);
        if (!pod.find()) {
            return Optional.empty();
        }
        return Optional.of(new PodContainer(canonicalUid(pod.group(1)), container.group(1)));
    }

    /** {@code 1b2c...} or {@code 1b2c_...} as the API writes a uid: lower case, 8-4-4-4-12 with dashes. */
    private static String canonicalUid(String raw) {
        String hex = raw.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-" + hex.substring(16, 20)
                + "-" + hex.substring(20);
    }
}
