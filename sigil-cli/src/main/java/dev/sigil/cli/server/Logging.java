package dev.sigil.cli.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sigil.server.config.ServerConfig;
import org.slf4j.LoggerFactory;

/** Applies {@code log_level} to Logback at run time; Jetty's, HikariCP's and Flyway's logging stay at WARN unless debugging. */
public final class Logging {
    private Logging() {
    }

    public static void apply(ServerConfig.LogLevel level) {
        apply(level.name());
    }

    /** Applies a level by name (trace, debug, info, warn, error); an unknown name means info. */
    public static void apply(String levelName) {
        Level level = Level.toLevel(levelName.toUpperCase(java.util.Locale.ROOT), Level.INFO);
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(level);
        }
        if (LoggerFactory.getLogger("dev.sigil") instanceof Logger sigil) {
            sigil.setLevel(level);
        }
        // The pool and migration libraries are chatty at INFO; they speak up only when debugging.
        Level libraries = level.isGreaterOrEqual(Level.INFO) ? Level.WARN : level;
        for (String name : new String[] {"com.zaxxer.hikari", "org.flywaydb"}) {
            if (LoggerFactory.getLogger(name) instanceof Logger library) {
                library.setLevel(libraries);
            }
        }
    }
}
