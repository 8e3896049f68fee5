package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code cgroup} workload attestor, from {@code /proc/<pid>/cgroup}: {@code path:<path>} for every
 * distinct cgroup path (one on cgroup v2, one per hierarchy on v1) and {@code container_id:<id>} when a
 * path names a container the way docker, containerd and cri-o do (a 64-hex id as a path segment,
 * optionally prefixed {@code docker-}, {@code cri-containerd-}, {@code crio-} or {@code libpod-} and
 * suffixed {@code .scope}).
 */
final class CgroupWorkloadAttestor implements WorkloadAttestor {
    static final String TYPE = "cgroup";
    private static final Pattern CONTAINER_ID =
            Pattern.compile("(?:^|/)(?:[a-z][a-z-]*-)?([0-9a-f]{64})(?:\\.scope)?(?=/|$)");

    private final ProcFs proc;

    CgroupWorkloadAttestor(ProcFs proc) {
        this.proc = proc;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Set<Selector> attest(PeerCredentials peer) {
        int pid = peer.pid();
        Set<Selector> selectors = new HashSet<>();
        for (String line : proc.lines(pid, "cgroup")) {
            // hierarchy-id:controllers:path; the path may itself contain ':'
            String[] fields = line.split(":", 3);
            if (fields.length < 3 || fields[2].isEmpty()) {
                continue;
            }
            String path = fields[2];
            selectors.add(Selector.of(TYPE, "path:" + path));
            containerId(path).ifPresent(id -> selectors.add(Selector.of(TYPE, "container_id:" + id)));
        }
        return Set.copyOf(selectors);
    }

    /** The innermost container id a cgroup path shows, if any. */
    static java.util.Optional<String> containerId(String path) {
        Matcher matcher = CONTAINER_ID.matcher(path);
        String last = null;
        while (matcher.find()) {
            last = matcher.group(1);
        }
        return java.util.Optional.ofNullable(last);
    }
}
