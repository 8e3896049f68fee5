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

    /**
     * A process as a connection from {@code peer} finds it: every id equal to the peer credentials,
     * running {@code executable}.
     */
    FakeProc process(PeerCredentials peer, long startTime, Path executable) throws IOException {
        process(peer.pid(), startTime, status(peer.uid(), peer.gid(), ""));
        exe(peer.pid(), executable);
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

    /** A status whose real, effective, saved and filesystem ids are all {@code uid} and {@code gid}. */
    static String status(long uid, long gid, String groups) {
        return status(uid + "\t" + uid + "\t" + uid + "\t" + uid, gid + "\t" + gid + "\t" + gid + "\t" + gid, groups);
    }

    /** A status with the given {@code Uid:} and {@code Gid:} values (real, effective, saved, filesystem). */
    static String status(String uids, String gids, String groups) {
        return "Name:\tapp\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t42\n"
                + "Uid:\t" + uids + "\n"
                + "Gid:\t" + gids + "\n"
                + "FDSize:\t64\nGroups:\t" + groups + "\nVmPeak:\t1000 kB\n";
    }
}
