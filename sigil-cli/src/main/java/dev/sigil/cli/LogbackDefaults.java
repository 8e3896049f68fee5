package dev.sigil.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The CLI's logging, set up in code rather than from a {@code logback.xml}: parsing XML costs every
 * short command a hundred-odd classes of the JDK's XML parser and Logback's configuration model. Client
 * commands stay quiet: warnings and errors only, on standard error, in the pattern {@code sigil server
 * run} keeps ({@code dev.sigil.cli.server.Logging} raises levels and may switch to JSON). A
 * {@code -Dlogback.configurationFile} (a file, a URL or a class-path resource) still wins. The class
 * path is not searched for a {@code logback-test.xml} or {@code logback.xml}: a resource that is in no
 * jar is looked for in every one of them, and opening the ninety-odd jars cost every short command
 * about 70 ms. The CLI's own tests name theirs with the property (sigil-cli's pom).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogbackDefaults extends ContextAwareBase implements Configurator {
    /** The appender's name, which {@code dev.sigil.cli.server.Logging} replaces by. */
    public static final String APPENDER = "STDERR";
    public static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{24} - %msg%n";

    /** Whether a {@code logback.configurationFile} takes the place of these defaults. */
    static boolean overridden() {
        return System.getProperty("logback.configurationFile") != null;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (overridden()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new OnFirstEventEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(appender);
        for (String library : new String[] {"org.eclipse.jetty", "com.zaxxer.hikari", "org.flywaydb"}) {
            context.getLogger(library).setLevel(Level.WARN);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * The pattern encoder, started when the first event is written: starting it resolves the time zone
     * of the pattern's date, and the JDK's time-zone start-up looks for zone providers in every jar,
     * which a command that logs nothing (most short ones) need not pay for. What it writes is the same.
     */
    private static final class OnFirstEventEncoder extends PatternLayoutEncoder {
        @Override
        public byte[] encode(ILoggingEvent event) {
            synchronized (this) {
                if (!isStarted()) {
                    start();
                }
            }
            return super.encode(event);
        }
    }
}
