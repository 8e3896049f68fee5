package dev.sigil.cli.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sigil.server.config.ServerConfig;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code log_level} and {@code log_format} to Logback at run time; Jetty's, HikariCP's and Flyway's
 * logging stay at WARN unless debugging.
 */
public final class Logging {
    private static final String APPENDER = dev.sigil.cli.LogbackDefaults.APPENDER;
    private static final String TEXT_PATTERN = dev.sigil.cli.LogbackDefaults.PATTERN;

    private Logging() {
    }

    /**
     * Writes the log to standard error as text (the default) or as JSON: one object a line with
     * {@code timestamp}, {@code level}, {@code threadName}, {@code loggerName}, {@code mdc} (where the
     * {@code request_id} of an HTTP request is) and {@code formattedMessage}. Security: every string is
     * JSON-escaped, so no logged value (a client's path, a SPIFFE ID it claimed) can break a line or forge
     * one; values are clipped where they are logged, as in text.
     */
    public static void format(dev.sigil.core.observability.LogFormat format) {
        if (!(LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context)) {
            return;
        }
        ch.qos.logback.core.encoder.Encoder<ch.qos.logback.classic.spi.ILoggingEvent> encoder;
        if (format == dev.sigil.core.observability.LogFormat.JSON) {
            ch.qos.logback.classic.encoder.JsonEncoder json = new ch.qos.logback.classic.encoder.JsonEncoder();
            json.setWithContext(false);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithFormattedMessage(true);
            encoder = json;
        } else {
            ch.qos.logback.classic.encoder.PatternLayoutEncoder text = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
            text.setPattern(TEXT_PATTERN);
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent> previous = root.getAppender(APPENDER);
        root.addAppender(appender);
        if (previous != null) {
            root.detachAppender(previous);
            previous.stop();
        }
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
