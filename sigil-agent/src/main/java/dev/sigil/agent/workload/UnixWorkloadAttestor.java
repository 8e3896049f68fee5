package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code unix} workload attestor. From {@code /proc/<pid>/status}: {@code uid} and {@code gid}
 * (the effective ids), {@code supplementary_gid} (each of {@code Groups}); {@code user} and
 * {@code group} when the ids have names in the local passwd/group files. From
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
    public Set<Selector> attest(int pid) {
        Set<Selector> selectors = new HashSet<>();
        long uid = -1;
        long gid = -1;
        for (String line : proc.lines(pid, "status")) {
            if (line.startsWith("Uid:")) {
                uid = effectiveId(pid, line);
            } else if (line.startsWith("Gid:")) {
                gid = effectiveId(pid, line);
            } else if (line.startsWith("Groups:")) {
                for (String group : line.substring("Groups:".length()).trim().split("\\s+")) {
                    if (!group.isEmpty()) {
                        selectors.add(selector("supplementary_gid", Long.toString(parseId(pid, group))));
                    }
                }
            }
        }
        if (uid < 0 || gid < 0) {
            throw new WorkloadAttestationException("status of pid " + pid + " has no Uid or Gid line");
        }
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

    /** {@code Uid:}/{@code Gid:} lines list real, effective, saved and filesystem ids; we use the effective one. */
    private static long effectiveId(int pid, String line) {
        List<String> ids = List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
        return parseId(pid, ids.size() > 1 ? ids.get(1) : ids.get(0));
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
