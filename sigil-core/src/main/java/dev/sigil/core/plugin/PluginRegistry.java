package dev.sigil.core.plugin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Every plugin this process can run, by kind and type name. {@link #installed()} finds them through
 * {@link ServiceLoader} (built-ins and any jar on the class path that lists a {@link Plugin} in
 * {@code META-INF/services/dev.sigil.core.plugin.Plugin}); {@link #of} builds one from a list (tests,
 * embedders). Two plugins of one kind with one type name are refused: which one runs must never depend on
 * class-path order.
 */
public final class PluginRegistry {
    private static final class Installed {
        static final PluginRegistry REGISTRY = of(ServiceLoader.load(Plugin.class, PluginRegistry.class.getClassLoader()).stream()
                .map(provider -> (Plugin<?>) provider.get()).toList());
    }

    private final Map<PluginKind, Map<String, Plugin<?>>> byKind;

    private PluginRegistry(Map<PluginKind, Map<String, Plugin<?>>> byKind) {
        this.byKind = byKind;
    }

    /** The plugins on the class path (loaded once). */
    public static PluginRegistry installed() {
        return Installed.REGISTRY;
    }

    public static PluginRegistry of(List<? extends Plugin<?>> plugins) {
        Map<PluginKind, Map<String, Plugin<?>>> byKind = new LinkedHashMap<>();
        for (Plugin<?> plugin : plugins) {
            Map<String, Plugin<?>> kind = byKind.computeIfAbsent(plugin.kind(), k -> new TreeMap<>());
            Plugin<?> previous = kind.put(plugin.type(), plugin);
            if (previous != null) {
                throw new PluginException("two " + plugin.kind().program() + " " + plugin.kind().singular() + " plugins are named '"
                        + plugin.type() + "': " + previous.getClass().getName() + " and " + plugin.getClass().getName());
            }
        }
        return new PluginRegistry(byKind);
    }

    /** The plugins of {@code kind}, by type name (sorted); empty when none. */
    public Map<String, Plugin<?>> plugins(PluginKind kind) {
        return Collections.unmodifiableMap(byKind.getOrDefault(kind, Map.of()));
    }

    /** The plugin of {@code kind} named {@code type}, cast to the kind's plugin interface. */
    public <P extends Plugin<?>> Optional<P> find(PluginKind kind, String type, Class<P> pluginInterface) {
        Plugin<?> plugin = plugins(kind).get(type);
        if (plugin == null) {
            return Optional.empty();
        }
        if (!pluginInterface.isInstance(plugin)) {
            throw new PluginException(kind.singular() + " plugin '" + type + "' (" + plugin.getClass().getName() + ") does not implement "
                    + pluginInterface.getSimpleName());
        }
        return Optional.of(pluginInterface.cast(plugin));
    }
}
