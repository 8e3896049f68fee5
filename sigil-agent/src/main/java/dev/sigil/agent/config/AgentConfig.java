package dev.sigil.agent.config;

import dev.sigil.core.observability.LogFormat;
import dev.sigil.core.observability.MetricsListenerSettings;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's resolved configuration (docs/agent.md). Always complete and valid; build it with
 * {@link AgentConfigLoader}. {@link #toString()} never shows the join token.
 *
 * @param serverAddresses the server's agent API endpoints in the order the agent tries them: one to
 *                        {@value ServerAddress#MAX_ADDRESSES}, no duplicates ({@link ServerAddress#list})
 */
public record AgentConfig(Path dataDir, TrustDomain trustDomain, List<ServerAddress> serverAddresses, TrustBootstrap bootstrap,
                          PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel,
                          Duration workloadReattestInterval, PluginBlocks workloadAttestors, LogFormat logFormat,
                          Optional<MetricsListenerSettings> metrics) {
    /** How often served workloads are re-attested for drift unless configured ({@code workload_reattest_interval}). */
    public static final Duration DEFAULT_REATTEST_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MIN_REATTEST_INTERVAL = Duration.ofMillis(100);

    /** With text logs and no metrics listener. */
    public AgentConfig(Path dataDir, TrustDomain trustDomain, List<ServerAddress> serverAddresses, TrustBootstrap bootstrap,
                       PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel,
                       Duration workloadReattestInterval, PluginBlocks workloadAttestors) {
        this(dataDir, trustDomain, serverAddresses, bootstrap, nodeAttestor, workloadApiSocket, syncInterval, logLevel,
                workloadReattestInterval, workloadAttestors, LogFormat.TEXT, Optional.empty());
    }

    /** This configuration with the metrics and health listener of {@code settings} (docs/observability.md). */
    public AgentConfig withMetrics(MetricsListenerSettings settings) {
        return new AgentConfig(dataDir, trustDomain, serverAddresses, bootstrap, nodeAttestor, workloadApiSocket, syncInterval, logLevel,
                workloadReattestInterval, workloadAttestors, logFormat, Optional.of(settings));
    }

    /** With one server address. */
    public AgentConfig(Path dataDir, TrustDomain trustDomain, ServerAddress serverAddress, TrustBootstrap bootstrap,
                       PluginChoice nodeAttestor, Path workloadApiSocket, Duration syncInterval, LogLevel logLevel,
                       Duration workloadReattestInterval, PluginBlocks workloadAttestors) {
        this(dataDir, trustDomain, List.of(Objects.requireNonNull(serverAddress, "serverAddress")), bootstrap, nodeAttestor,
                workloadApiSocket, syncInterval, logLevel, workloadReattestInterval, workloadAttestors);
    }

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
        serverAddresses = ServerAddress.list(serverAddresses);
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(nodeAttestor, "nodeAttestor");
        if (!nodeAttestor.kind().equals(AgentPlugins.NODE_ATTESTOR)) {
            throw new IllegalArgumentException("node_attestor must be a node attestor, not a " + nodeAttestor.kind().singular());
        }
        Objects.requireNonNull(workloadApiSocket, "workloadApiSocket");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(workloadAttestors, "workloadAttestors");
        Objects.requireNonNull(logFormat, "logFormat");
        Objects.requireNonNull(metrics, "metrics");
        AgentPlugins.WORKLOAD_ATTESTORS.cardinality().check(AgentPlugins.WORKLOAD_ATTESTORS, workloadAttestors.blocks().keySet());
        if (syncInterval == null || syncInterval.toMillis() < 100) {
            throw new IllegalArgumentException("sync_interval is " + syncInterval + "; it must be at least 100ms");
        }
        if (workloadReattestInterval == null || workloadReattestInterval.compareTo(MIN_REATTEST_INTERVAL) < 0) {
            throw new IllegalArgumentException("workload_reattest_interval is " + workloadReattestInterval + "; it must be at least 100ms");
        }
    }

    /** The first server address: the one the agent tries first (and the only one unless several are configured). */
    public ServerAddress serverAddress() {
        return serverAddresses.getFirst();
    }

    /** The server's agent API endpoint. */
    public record ServerAddress(String host, int port) {
        /** The most addresses {@code server_address} may list. */
        public static final int MAX_ADDRESSES = 16;

        public ServerAddress {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("server address has an empty host");
            }
            if (host.chars().anyMatch(c -> c == ',' || Character.isWhitespace(c))) {
                throw new IllegalArgumentException("server address host '" + host + "' holds a comma or a space; "
                        + "list several addresses as separate entries");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("server address port " + port + " is not valid; use 1 to 65535");
            }
        }

        /** Parses {@code host:port} ({@code [v6]:port} for IPv6 literals). */
        public static ServerAddress parse(String text) {
            if (text != null && text.contains(",")) {
                throw new IllegalArgumentException("server address '" + text + "' holds a comma; write several addresses "
                        + "as a yaml list (or comma-separated in " + AgentConfigLoader.SIGIL_AGENT_SERVER_ADDRESS + ")");
            }
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

        /**
         * Parses a comma-separated list of {@code host:port} (the {@code SIGIL_AGENT_SERVER_ADDRESS} form);
         * spaces around entries are ignored. Refuses what {@link #list} refuses and empty entries.
         */
        public static List<ServerAddress> parseList(String text) {
            List<ServerAddress> addresses = new ArrayList<>();
            for (String entry : (text == null ? "" : text).split(",", -1)) {
                if (entry.isBlank()) {
                    throw new IllegalArgumentException("server address list '" + text + "' has an empty entry; "
                            + "separate host:port entries with single commas");
                }
                addresses.add(parse(entry.trim()));
            }
            return list(addresses);
        }

        /**
         * {@code addresses} as an unmodifiable list, in order, after checking it: one to
         * {@value #MAX_ADDRESSES} addresses and none twice.
         */
        public static List<ServerAddress> list(List<ServerAddress> addresses) {
            if (addresses == null || addresses.isEmpty()) {
                throw new IllegalArgumentException("server address list is empty; give at least one host:port, for example 127.0.0.1:8081");
            }
            if (addresses.size() > MAX_ADDRESSES) {
                throw new IllegalArgumentException("server address list has " + addresses.size() + " entries; at most "
                        + MAX_ADDRESSES + " are allowed");
            }
            Set<ServerAddress> seen = new HashSet<>();
            for (ServerAddress address : addresses) {
                Objects.requireNonNull(address, "server address");
                if (!seen.add(address)) {
                    throw new IllegalArgumentException("server address '" + address + "' is listed twice");
                }
            }
            return List.copyOf(addresses);
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
