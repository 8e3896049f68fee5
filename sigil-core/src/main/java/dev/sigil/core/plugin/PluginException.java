package dev.sigil.core.plugin;

/** A plugin that cannot be found, configured or built; the message names the section, the plugin and the key. */
public final class PluginException extends IllegalArgumentException {
    public PluginException(String message) {
        super(message);
    }

    public PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
