package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code unix} workload attestor. From the connection's peer credentials (captured by the kernel at
 * {@code connect()}): {@code uid} and {@code gid}, and {@code user} and {@code group} when the ids have
 * names in the local passwd/group files; never from {@code /proc}, which shows the ids the process runs
 * with now. From {@code /proc/<pid>/status}: {@code supplementary_gid} (each of {@code Groups}). From
 * {@code /proc/<pid>/exe}: {@code path} (the link target) and {@code sha256} (of the running binary,
 * read through the link). The binary selectors are omitted, not guessed, when the link cannot be read
 * (another user's process without privilege, a kernel thread) or the binary was deleted.
 */
final class UnixWorkloadAttestor implements WorkloadAttestor {
    private static final Logger LOG = LoggerFactory.getLogger(UnixWorkloadAttestor.class);
    static final String TYPE = "unix";

    private final ProcFs proc;
    private final NameDatabase names;
    private final BinaryDigests digests = new BinaryDigests();

    UnixWorkloadAttestor(ProcFs proc, Path etcRoot) {
        this.proc = proc;
        this.names = new NameDatabase(etcRoot);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Set<Selector> attest(PeerCredentials peer) {
        int pid = peer.pid();
        Set<Selector> selectors = new HashSet<>();
        for (String line : proc.lines(pid, "status")) {
            if (line.startsWith("Groups:")) {
                for (String group : line.substring("Groups:".length()).trim().split("\\s+")) {
                    if (!group.isEmpty()) {
                        selectors.add(selector("supplementary_gid", Long.toString(parseId(pid, group))));
                    }
                }
            }
        }
        long uid = peer.uid();
        long gid = peer.gid();
        selectors.add(selector("uid", Long.toString(uid)));
        selectors.add(selector("gid", Long.toString(gid)));
        names.userName(uid).ifPresent(name -> selectors.add(selector("user", name)));
        names.groupName(gid).ifPresent(name -> selectors.add(selector("group", name)));
        addBinary(pid, selectors);
        return Set.copyOf(selectors);
    }

    private void addBinary(int pid, Set<Selector> selectors) {
        Path exe = proc.pidDir(pid).resolve("exe");
        String path;
        try {
            path = java.nio.file.Files.readSymbolicLink(exe).toString();
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("no binary selectors for pid {}: {}", pid, e.toString());
            return;
        }
        if (path.endsWith(" (deleted)")) {
            LOG.debug("no binary selectors for pid {}: its binary {} was deleted", pid, path);
            return;
        }
        selectors.add(selector("path", path));
        try {
            selectors.add(selector("sha256", digests.sha256(exe, path)));
        } catch (IOException e) {
            LOG.debug("no sha256 selector for pid {}: {}", pid, e.toString());
        }
    }

    private static long parseId(int pid, String text) {
        try {
            long id = Long.parseLong(text);
            if (id < 0) {
                throw new NumberFormatException("negative");
            }
            return id;
        } catch (NumberFormatException e) {
            throw new WorkloadAttestationException("status of pid " + pid + " has id '" + text + "'; expected a non-negative number", e);
        }
    }

    private static Selector selector(String kind, String value) {
        return Selector.of(TYPE, kind + ":" + value);
    }
}
