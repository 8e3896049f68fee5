package dev.sigil.cli;

import dev.sigil.cli.server.ServerLauncher;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.server.config.ConfigEnvironment;
import java.io.PrintWriter;
import java.util.Objects;

/**
 * Everything a command may touch outside its arguments, passed in by {@link Main} so commands are
 * testable in-process: the environment, the output streams, and how {@code server run} starts and
 * stops the server.
 */
public record CliContext(ConfigEnvironment environment, PrintWriter out, PrintWriter err, ServerLauncher launcher,
                         StopSignal stopSignal) {
    public CliContext {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        Objects.requireNonNull(launcher, "launcher");
        Objects.requireNonNull(stopSignal, "stopSignal");
    }
}
