package dev.sigil.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The processes and the temporary directory a load driver started, ended and deleted exactly once:
 * when the driver finishes, fails, or the JVM is asked to stop (Ctrl-C, SIGTERM; a shutdown hook
 * runs {@link #close}). Each process is ended with its descendants (a launcher script's JVM), gently
 * first (SIGTERM, 10 s), then forcibly; only then is the directory deleted, so no process still writes
 * into it.
 */
final class ProcessReaper implements AutoCloseable {
    private final TempDirectory directory;
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook;
    private boolean closed;

    private ProcessReaper(TempDirectory directory) {
        this.directory = directory;
        this.hook = new Thread(this::close, "process-reaper");
    }

    /** A fresh temporary directory with the given prefix, and a shutdown hook that cleans up. */
    static ProcessReaper create(String prefix) {
        ProcessReaper reaper = new ProcessReaper(TempDirectory.create(prefix));
        Runtime.getRuntime().addShutdownHook(reaper.hook);
        return reaper;
    }

    TempDirectory directory() {
        return directory;
    }

    /** Starts {@code builder}'s process and takes it in charge; fails if this reaper is already closed. */
    synchronized Process start(ProcessBuilder builder) throws IOException {
        if (closed) {
            throw new IllegalStateException("stopping: no new process is started");
        }
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** User plus system CPU time of a taken process and its live descendants, in microseconds (from /proc). */
    static long treeCpuMicros(Process process) {
        long total = ServerProcesses.cpuMicros(process.pid());
        for (ProcessHandle child : process.descendants().toList()) {
            total += ServerProcesses.cpuMicros(child.pid());
        }
        return total;
    }

    /** The last lines of a log the run's cleanup is about to delete, for the failure message. */
    static String logTail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Process> newestFirst = new ArrayList<>(processes).reversed();
        for (Process process : newestFirst) {
            stop(process.toHandle());
        }
        // and whatever else this JVM started and left running (a wrk or a CLI call cut short by Ctrl-C)
        ProcessHandle.current().children().forEach(ProcessReaper::stop);
        directory.close();
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down; the hook finds this reaper closed
            }
        }
    }

    private static void stop(ProcessHandle process) {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process);
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle handle : tree) {
            try {
                handle.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                handle.destroyForcibly();
            }
        }
        for (ProcessHandle handle : tree) {
            try {
                handle.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // it was sent SIGKILL; nothing more can be done
            }
        }
    }
}
