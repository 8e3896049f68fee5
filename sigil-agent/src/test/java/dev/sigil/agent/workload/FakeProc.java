package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fake procfs tree: {@code <root>/<pid>/stat}, {@code status}, {@code cgroup} and an {@code exe} symlink. */
final class FakeProc {
    final Path root;

    FakeProc(Path root) {
        this.root = root;
    }

    FakeProc process(int pid, long startTime, String status) throws IOException {
        Path dir = Files.createDirectories(root.resolve(Integer.toString(pid)));
        setStartTime(pid, startTime);
        Files.writeString(dir.resolve("status"), status);
        return this;
    }

    /** Rewrites the stat line; a different start time means the pid now names another process. */
    void setStartTime(int pid, long startTime) throws IOException {
        // the command name contains ") (" to prove the parser anchors on the last ')'
        StringBuilder stat = new StringBuilder(pid + " (my) (app) S");
        for (int field = 4; field <= 52; field++) {
            stat.append(' ').append(field == 22 ? startTime : field);
        }
        Files.writeString(root.resolve(Integer.toString(pid)).resolve("stat"), stat + "\n");
    }

    void exe(int pid, Path target) throws IOException {
        Files.createSymbolicLink(root.resolve(Integer.toString(pid)).resolve("exe"), target);
    }

    void cgroup(int pid, String content) throws IOException {
        Files.writeString(root.resolve(Integer.toString(pid)).resolve("cgroup"), content);
    }

    void remove(int pid) throws IOException {
        try (var files = Files.walk(root.resolve(Integer.toString(pid)))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static String status(long uid, long gid, String groups) {
        return "Name:\tapp\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t42\n"
                + "Uid:\t" + (uid + 1) + "\t" + uid + "\t" + uid + "\t" + uid + "\n"
                + "Gid:\t" + (gid + 1) + "\t" + gid + "\t" + gid + "\t" + gid + "\n"
                + "FDSize:\t64\nGroups:\t" + groups + "\nVmPeak:\t1000 kB\n";
    }
}
