package dev.sigil.cli.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sigil.server.config.ServerConfig;
import org.slf4j.LoggerFactory;

/** Applies {@code log_level} to Logback at run time; Jetty's, HikariCP's and Flyway's logging stay at WARN unless debugging. */
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
        // The pool and migration libraries are chatty at INFO; they speak up only when debugging.
        Level libraries = Level.toLevel(level.name(), Level.INFO).isGreaterOrEqual(Level.INFO) ? Level.WARN
                : Level.toLevel(level.name(), Level.INFO);
        for (String name : new String[] {"com.zaxxer.hikari", "org.flywaydb"}) {
            if (LoggerFactory.getLogger(name) instanceof Logger library) {
                library.setLevel(libraries);
            }
        }
    }
}
