package dev.sigil.server.config;

import dev.sigil.core.SigilException;

/** The server configuration is unreadable or invalid; the message names the key (and line) and what is valid. */
public final class ConfigException extends SigilException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
