package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Read access to a procfs tree rooted at a configurable path ({@code /proc} in production, a fake
 * tree in tests).
 */
final class ProcFs {
    private final Path root;

    ProcFs(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    Path root() {
        return root;
    }

    Path pidDir(int pid) {
        return root.resolve(Integer.toString(pid));
    }

    /**
     * The start time of process {@code pid} (field 22 of {@code /proc/<pid>/stat}, clock ticks since
     * boot); empty when the process does not exist. Together with the pid it names one process: a pid
     * reused by a later process has a different start time.
     */
    Optional<Long> startTime(int pid) {
        String stat;
        try {
            stat = Files.readString(pidDir(pid).resolve("stat"), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(parseStartTime(pid, stat));
    }

    /** Field 22 of a stat line; the command name (field 2) is in parentheses and may hold spaces or ')'. */
    static long parseStartTime(int pid, String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new WorkloadAttestationException("stat of pid " + pid + " has no ')' after the command name");
        }
        // fields after the command name are separated by single spaces; field 3 (state) is the first, so
        // field 22 is the 20th. Scanned by hand: this runs before every Workload API response.
        int field = 0;
        int i = close + 1;
        int length = stat.length();
        while (i < length) {
            while (i < length && Character.isWhitespace(stat.charAt(i))) {
                i++;
            }
            if (i >= length) {
                break;
            }
            int start = i;
            while (i < length && !Character.isWhitespace(stat.charAt(i))) {
                i++;
            }
            if (++field == 20) {
                String value = stat.substring(start, i);
                try {
                    return Long.parseLong(value);
                } catch (NumberFormatException e) {
                    throw new WorkloadAttestationException("stat of pid " + pid + " has start time '" + value + "'; expected a number", e);
                }
            }
        }
        throw new WorkloadAttestationException("stat of pid " + pid + " has " + (field + 2) + " fields; at least 22 are expected");
    }

    /**
     * The process and program {@code pid} names now; empty when the process does not exist.
     *
     * @throws WorkloadAttestationException when the process exists but its executable cannot be
     *         inspected (a kernel thread, or a process the agent may not inspect)
     */
    Optional<ProcessImage> image(int pid) {
        Optional<Long> start = startTime(pid);
        if (start.isEmpty()) {
            return Optional.empty();
        }
        ProcessImage.Executable executable = executable(pid);
        if (!start.equals(startTime(pid))) {
            return Optional.empty(); // the executable read may belong to a later process
        }
        return Optional.of(new ProcessImage(start.get(), executable));
    }

    /**
     * Device and inode of the file {@code /proc/<pid>/exe} leads to (the running program, even when
     * it was deleted or replaced on disk since).
     *
     * @throws WorkloadAttestationException when the process is gone or the link cannot be followed
     */
    ProcessImage.Executable executable(int pid) {
        try {
            Map<String, Object> attributes = Files.readAttributes(pidDir(pid).resolve("exe"), "unix:dev,ino");
            return new ProcessImage.Executable((Long) attributes.get("dev"), (Long) attributes.get("ino"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new WorkloadAttestationException("cannot inspect the executable of pid " + pid + ": " + e, e);
        }
    }

    /** The lines of {@code /proc/<pid>/<name>}; an exception when the process or file is gone. */
    List<String> lines(int pid, String name) {
        try {
            return Files.readAllLines(pidDir(pid).resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read " + name + " of pid " + pid + ": " + e.getMessage(), e);
        }
    }
}
