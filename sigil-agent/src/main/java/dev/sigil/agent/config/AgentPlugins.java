package dev.sigil.agent.config;

import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The agent's plugin kinds: the configuration sections its plugins are configured under, and how many of each run. */
public final class AgentPlugins {
    /** Workload attestors: what the agent learns about a caller (its selectors); at least one. */
    public static final PluginKind WORKLOAD_ATTESTORS = new PluginKind("agent", "workload_attestors", "workload attestor",
            PluginKind.Cardinality.ONE_OR_MORE);
    /** The node attestor: exactly one, chosen by {@code node_attestor.type}. */
    public static final PluginKind NODE_ATTESTOR = new PluginKind("agent", "node_attestor", "node attestor",
            PluginKind.Cardinality.EXACTLY_ONE);
    /** Every kind configured as a section of named blocks. */
    public static final List<PluginKind> ALL = List.of(WORKLOAD_ATTESTORS);
    /** Every kind configured as one section with a {@code type} key (no default type: the file or the environment chooses). */
    public static final Map<PluginKind, java.util.Optional<String>> CHOICES = Map.of(NODE_ATTESTOR, java.util.Optional.empty());
    /** The workload attestors that run when the configuration names none. */
    static final List<String> DEFAULT_WORKLOAD_ATTESTORS = List.of("unix", "cgroup");

    private AgentPlugins() {
    }

    /** {@code unix} and {@code cgroup} with their default settings. */
    public static PluginBlocks defaultWorkloadAttestors() {
        PluginRegistry registry = PluginRegistry.installed();
        Map<String, Record> blocks = new LinkedHashMap<>();
        for (String type : DEFAULT_WORKLOAD_ATTESTORS) {
            var plugin = registry.plugins(WORKLOAD_ATTESTORS).get(type);
            if (plugin == null) {
                throw new AgentConfigException("the built-in workload attestor '" + type + "' is not installed; the agent's jar is incomplete");
            }
            blocks.put(type, AgentConfigFile.FORMAT.mapper().convertValue(Map.of(), plugin.settingsType()));
        }
        return new PluginBlocks(WORKLOAD_ATTESTORS, blocks);
    }
}
