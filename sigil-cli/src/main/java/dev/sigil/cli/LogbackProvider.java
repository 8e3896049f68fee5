package dev.sigil.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import ch.qos.logback.core.util.StatusListenerConfigHelper;
import ch.qos.logback.core.util.StatusPrinter;

/**
 * The SLF4J provider the CLI names ({@code slf4j.provider}): Logback, configured by
 * {@link LogbackDefaults} directly instead of through Logback's own start-up, which looks configurators
 * up as services across the class path, instantiates them reflectively and records each step as a
 * status message: work every short command paid for before doing its own. The resulting context is
 * the one Logback's start-up would build. When {@code -Dlogback.configurationFile} is set, Logback
 * configures itself as usual.
 */
public final class LogbackProvider extends LogbackServiceProvider {
    @Override
    public void initialize() {
        if (LogbackDefaults.overridden()) {
            super.initialize();
            return;
        }
        // what LogbackServiceProvider.initialize and ContextInitializer.autoConfig do, with the
        // configurator known instead of looked up
        LoggerContext context = (LoggerContext) getLoggerFactory();
        context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
        context.setMDCAdapter(getMDCAdapter());
        StatusListenerConfigHelper.installIfAsked(context);
        LogbackDefaults defaults = new LogbackDefaults();
        defaults.setContext(context);
        defaults.configure(context);
        // (StatusPrinter's own start-up resolves the time zone; it is loaded only when there is something to print)
        if (!StatusUtil.contextHasStatusListener(context) && new StatusUtil(context).getHighestLevel(0) >= Status.WARN) {
            StatusPrinter.printInCaseOfErrorsOrWarnings(context);
        }
        context.start();
    }
}
