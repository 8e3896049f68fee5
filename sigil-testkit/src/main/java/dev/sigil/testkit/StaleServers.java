package dev.sigil.testkit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Stopping test servers, including those a killed JVM left behind. A server directory is named
 * {@code <prefix><jvm pid>-<random>}; when that JVM is gone, its server (if still running) is stopped
 * and the directory deleted. Directories of live JVMs are never touched.
 */
final class StaleServers {
    private StaleServers() {}

    static void removeLeftovers(String prefix) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, prefix + "*")) {
            for (Path dir : dirs) {
                ownerPid(dir.getFileName().toString().substring(prefix.length()))
                        .filter(pid -> ProcessHandle.of(pid).isEmpty())
                        .ifPresent(pid -> {
                            postmaster(dir).ifPresent(StaleServers::stopImmediately);
                            deleteRecursively(dir);
                        });
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a leftover costs disk space, not correctness
        }
    }

    /**
     * Immediate shutdown (SIGQUIT): the server stops without waiting for clients, which is what a
     * test server about to be deleted wants. Falls back to SIGKILL.
     */
    static void stopImmediately(ProcessHandle postmaster) {
        if (!postmaster.isAlive()) {
            return;
        }
        try {
            new ProcessBuilder("kill", "-QUIT", String.valueOf(postmaster.pid())).start().waitFor(5, TimeUnit.SECONDS);
            postmaster.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            postmaster.destroyForcibly();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | RuntimeException e) {
            // best effort
        }
    }

    private static Optional<Long> ownerPid(String rest) {
        int dash = rest.indexOf('-');
        try {
            return dash > 0 ? Optional.of(Long.parseLong(rest.substring(0, dash))) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The live postmaster of a data directory, if its pid file names a running postgres. */
    private static Optional<ProcessHandle> postmaster(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("data").resolve("postmaster.pid"));
            long pid = Long.parseLong(lines.getFirst().trim());
            return ProcessHandle.of(pid).filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
