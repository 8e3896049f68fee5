package dev.sigil.agent.config;

import dev.sigil.core.config.ConfigValues;
import dev.sigil.core.config.YamlConfigFile;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The agent configuration file exactly as written: every key optional (null when absent), values typed
 * by deserializers that report the line of a bad value ({@link YamlConfigFile}, the format the server's
 * file shares). Defaults are applied by {@link AgentConfigLoader}.
 */
final class AgentConfigFile {

    private AgentConfigFile() {
    }

    record Root(Path dataDir, TrustDomain trustDomain, ServerAddresses serverAddress, Path trustBundlePath,
                Boolean insecureBootstrap, PluginChoice nodeAttestor, WorkloadApi workloadApi, Duration syncInterval,
                AgentConfig.LogLevel logLevel, Duration workloadReattestInterval, PluginBlocks workloadAttestors,
                dev.sigil.core.observability.LogFormat logFormat, dev.sigil.core.observability.MetricsListenerSettings.Block metrics) {
        static Root empty() {
            return new Root(null, null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    record WorkloadApi(Path socketPath) {
    }

    /**
     * {@code server_address}: one {@code host:port} or a yaml list of them, checked by
     * {@link AgentConfig.ServerAddress#list} (one to 16, no duplicates).
     */
    record ServerAddresses(List<AgentConfig.ServerAddress> addresses) {
        ServerAddresses {
            addresses = AgentConfig.ServerAddress.list(addresses);
        }
    }

    /** The agent's file format: {@link Root}, its own value types, and the agent's plugin kinds. */
    static final YamlConfigFile<Root> FORMAT = new YamlConfigFile<>(Root.class, Root.empty(), Set.of(AgentConfig.ServerAddress.class, ServerAddresses.class),
            AgentPlugins.ALL, AgentPlugins.CHOICES, values -> {
                values.addDeserializer(AgentConfig.LogLevel.class, ConfigValues.scalar(AgentConfig.LogLevel::parse));
                values.addDeserializer(dev.sigil.core.observability.LogFormat.class,
                        ConfigValues.scalar(dev.sigil.core.observability.LogFormat::parse));
                values.addDeserializer(AgentConfig.ServerAddress.class, ConfigValues.scalar(AgentConfig.ServerAddress::parse));
                values.addDeserializer(ServerAddresses.class,
                        ConfigValues.scalarOrList(AgentConfig.ServerAddress::parse, ServerAddresses::new));
            }, AgentConfigException::new);
}
