package dev.sigil.server.config;

import dev.sigil.core.plugin.PluginKind;
import java.util.List;

/** The server's plugin kinds: the configuration sections plugins are configured under, and how many of each run. */
public final class ServerPlugins {
    /** Credential brokers: zero or more, each offered under its type name. */
    public static final PluginKind BROKERS = new PluginKind("server", "brokers", "broker", PluginKind.Cardinality.ZERO_OR_MORE);
    /** Node attestors: how agents may prove which node they run on; at least one. */
    public static final PluginKind NODE_ATTESTORS = new PluginKind("server", "node_attestors", "node attestor",
            PluginKind.Cardinality.ONE_OR_MORE);
    /** The key manager: exactly one, chosen by {@code key_manager.type} ({@code disk} when absent). */
    public static final PluginKind KEY_MANAGER = new PluginKind("server", "key_manager", "key manager", PluginKind.Cardinality.EXACTLY_ONE);
    /** Every kind configured as a section of named blocks. */
    public static final List<PluginKind> ALL = List.of(BROKERS, NODE_ATTESTORS);
    /** Every kind configured as one section with a {@code type} key, with the type chosen when it is absent. */
    public static final java.util.Map<PluginKind, java.util.Optional<String>> CHOICES = java.util.Map.of(KEY_MANAGER, java.util.Optional.of("disk"));

    private ServerPlugins() {
    }
}
