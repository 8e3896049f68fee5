package dev.sigil.agent.config;

import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The agent's resolved configuration (docs/agent.md). Always complete and valid; build it with
 * {@link AgentConfigLoader}. {@link #toString()} never shows the join token.
 */
public record AgentConfig(Path dataDir, TrustDomain trustDomain, ServerAddress serverAddress, TrustBootstrap bootstrap,
                          PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel,
                          Duration workloadReattestInterval, PluginBlocks workloadAttestors) {
    /** How often served workloads are re-attested for drift unless configured ({@code workload_reattest_interval}). */
    public static final Duration DEFAULT_REATTEST_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MIN_REATTEST_INTERVAL = Duration.ofMillis(100);

    /** With the default re-attestation interval. */
    public AgentConfig(Path dataDir, TrustDomain trustDomain, ServerAddress serverAddress, TrustBootstrap bootstrap,
                       PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel) {
        this(dataDir, trustDomain, serverAddress, bootstrap, nodeAttestor, workloadApiSocket, syncInterval, logLevel,
                DEFAULT_REATTEST_INTERVAL);
    }

    /** With the default workload attestors ({@code unix} and {@code cgroup}). */
    public AgentConfig(Path dataDir, TrustDomain trustDomain, ServerAddress serverAddress, TrustBootstrap bootstrap,
                       PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel,
                       Duration workloadReattestInterval) {
        this(dataDir, trustDomain, serverAddress, bootstrap, nodeAttestor, workloadApiSocket, syncInterval, logLevel,
                workloadReattestInterval, AgentPlugins.defaultWorkloadAttestors());
    }

    public AgentConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(serverAddress, "serverAddress");
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(nodeAttestor, "nodeAttestor");
        if (!nodeAttestor.kind().equals(AgentPlugins.NODE_ATTESTOR)) {
            throw new IllegalArgumentException("node_attestor must be a node attestor, not a " + nodeAttestor.kind().singular());
        }
        Objects.requireNonNull(workloadApiSocket, "workloadApiSocket");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(workloadAttestors, "workloadAttestors");
        AgentPlugins.WORKLOAD_ATTESTORS.cardinality().check(AgentPlugins.WORKLOAD_ATTESTORS, workloadAttestors.blocks().keySet());
        if (syncInterval == null || syncInterval.toMillis() < 100) {
            throw new IllegalArgumentException("sync_interval is " + syncInterval + "; it must be at least 100ms");
        }
        if (workloadReattestInterval == null || workloadReattestInterval.compareTo(MIN_REATTEST_INTERVAL) < 0) {
            throw new IllegalArgumentException("workload_reattest_interval is " + workloadReattestInterval + "; it must be at least 100ms");
        }
    }

    /** The server's agent API endpoint. */
    public record ServerAddress(String host, int port) {
        public ServerAddress {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("server address has an empty host");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("server address port " + port + " is not valid; use 1 to 65535");
            }
        }

        /** Parses {@code host:port} ({@code [v6]:port} for IPv6 literals). */
        public static ServerAddress parse(String text) {
            int colon = text == null ? -1 : text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("server address '" + text + "' is not host:port, for example 127.0.0.1:8081");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                return new ServerAddress(host, Integer.parseInt(text.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("server address '" + text + "' has a port that is not a number; use 1 to 65535");
            }
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** How the agent comes to trust the server before it has a bundle from it. */
    public sealed interface TrustBootstrap {
        /** PEM X.509 authorities of the trust domain: the server's chain must validate to one of them. */
        record BundleFile(Path path) implements TrustBootstrap {
            public BundleFile {
                Objects.requireNonNull(path, "path");
            }
        }

        /**
         * Trust on first use: the first server chain whose leaf is {@code spiffe://<td>/sigil/server} is
         * trusted without validation. Whoever can intercept that connection can impersonate the server
         * and issue this node's identities. For development only.
         */
        record Insecure() implements TrustBootstrap {
        }
    }


    public enum LogLevel {
        ERROR, WARN, INFO, DEBUG, TRACE;

        static LogLevel parse(String text) {
            for (LogLevel level : values()) {
                if (level.name().equalsIgnoreCase(text.trim())) {
                    return level;
                }
            }
            throw new IllegalArgumentException("log level '" + text + "' is not valid; use error, warn, info, debug or trace");
        }

        public String lowerCase() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
