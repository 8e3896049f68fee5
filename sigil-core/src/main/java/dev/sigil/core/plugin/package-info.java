/**
 * Plugin registries, in the shape SPIRE users know: each plugin has a kind (the configuration section it
 * is configured under: {@code brokers}, ...), a type name (its key in that section: {@code postgresql}) and
 * a settings record its block binds to, strictly (unknown keys and bad values are refused with file, line
 * and key). Plugins are found with {@link java.util.ServiceLoader}: adding one touches its own package, its
 * line in {@code META-INF/services/dev.sigil.core.plugin.Plugin} and its docs page, nothing else. How many
 * of a kind may run is declared as data ({@link dev.sigil.core.plugin.PluginKind}).
 *
 * <p>In sigil-core, shared by the server and the agent, so configuration (below every plugin) can bind
 * plugin blocks.
 */
package dev.sigil.core.plugin;
