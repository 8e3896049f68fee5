package dev.sigil.cli.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sigil.server.config.ServerConfig;
import org.slf4j.LoggerFactory;

/** Applies {@code log_level} to Logback at run time; Jetty's own logging stays at WARN. */
final class Logging {
    private Logging() {
    }

    static void apply(ServerConfig.LogLevel level) {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(Level.toLevel(level.name(), Level.INFO));
        }
        if (LoggerFactory.getLogger("dev.sigil") instanceof Logger sigil) {
            sigil.setLevel(Level.toLevel(level.name(), Level.INFO));
        }
    }
}
