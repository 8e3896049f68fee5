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
    /** Every kind a server configuration file may configure. */
    public static final List<PluginKind> ALL = List.of(BROKERS, NODE_ATTESTORS);

    private ServerPlugins() {
    }
}
