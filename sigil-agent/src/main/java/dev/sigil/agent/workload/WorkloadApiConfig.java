package dev.sigil.agent.workload;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the Workload API server.
 *
 * @param socketPath     the Unix socket the Workload API listens on; its parent directory is created
 *                       when missing
 * @param procRoot       the procfs root that callers are attested from, normally {@code /proc}
 * @param handlerThreads threads that attest callers and compute responses
 * @param reattestInterval how often every served workload is attested again (drift detection); at
 *                       least 50ms
 */
public record WorkloadApiConfig(Path socketPath, Path procRoot, int handlerThreads, Duration reattestInterval) {
    public static final Path DEFAULT_SOCKET_PATH = Path.of("/tmp/sigil-agent/public/api.sock");
    public static final Path DEFAULT_PROC_ROOT = Path.of("/proc");
    public static final Duration DEFAULT_REATTEST_INTERVAL = Duration.ofSeconds(1);

    public WorkloadApiConfig(Path socketPath, Path procRoot, int handlerThreads) {
        this(socketPath, procRoot, handlerThreads, DEFAULT_REATTEST_INTERVAL);
    }

    public WorkloadApiConfig {
        Objects.requireNonNull(socketPath, "socketPath");
        Objects.requireNonNull(procRoot, "procRoot");
        socketPath = socketPath.toAbsolutePath();
        if (socketPath.getParent() == null) {
            throw new IllegalArgumentException("workload api socket path '" + socketPath + "' has no parent directory");
        }
        // sun_path holds 108 bytes including the terminating NUL
        if (socketPath.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
            throw new IllegalArgumentException("workload api socket path '" + socketPath + "' is longer than 107 bytes");
        }
        if (handlerThreads < 1 || handlerThreads > 256) {
            throw new IllegalArgumentException("workload api handler threads is " + handlerThreads + "; it must be 1 to 256");
        }
        if (reattestInterval == null || reattestInterval.toMillis() < 50) {
            throw new IllegalArgumentException("workload re-attestation interval is " + reattestInterval + "; it must be at least 50ms");
        }
    }

    /** The default socket path, {@code /proc}, 4 handler threads, re-attestation every second. */
    public static WorkloadApiConfig defaults() {
        return new WorkloadApiConfig(DEFAULT_SOCKET_PATH, DEFAULT_PROC_ROOT, 4);
    }

    public WorkloadApiConfig withSocketPath(Path path) {
        return new WorkloadApiConfig(path, procRoot, handlerThreads, reattestInterval);
    }

    public WorkloadApiConfig withProcRoot(Path root) {
        return new WorkloadApiConfig(socketPath, root, handlerThreads, reattestInterval);
    }

    public WorkloadApiConfig withReattestInterval(Duration interval) {
        return new WorkloadApiConfig(socketPath, procRoot, handlerThreads, interval);
    }
}
