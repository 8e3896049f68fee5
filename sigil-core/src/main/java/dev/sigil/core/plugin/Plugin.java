package dev.sigil.core.plugin;

/**
 * A plugin as the registry and the configuration loader see it: where it is configured and what its block
 * binds to. Each kind extends this with its factory method (a broker plugin builds a broker from its
 * settings). Implementations are stateless and have a public no-argument constructor (ServiceLoader).
 *
 * @param <S> the settings record of the plugin's block; its components, in snake_case, are the block's keys.
 *            Its compact constructor validates, with messages naming {@code <section>.<type>.<key>}.
 */
public interface Plugin<S extends Record> {
    /** The kind this plugin is one of. */
    PluginKind kind();

    /** The plugin's type name: its key in the kind's section, e.g. {@code postgresql}. */
    String type();

    /** The record the plugin's block binds to. */
    Class<S> settingsType();
}
