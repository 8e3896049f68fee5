package dev.sigil.cli;

import dev.sigil.cli.server.ServerLauncher;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.cli.server.SigilServerLauncher;
import dev.sigil.server.config.ConfigEnvironment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** Runs the CLI in-process with a given environment and captures what it prints. */
final class CliHarness {
    record Result(int exitCode, String out, String err) {
    }

    private final Map<String, String> env;
    private final Path home;
    private final ServerLauncher launcher;
    private final StopSignal stop;

    CliHarness(Map<String, String> env, Path home) {
        this(env, home, new SigilServerLauncher(), stop -> {
            throw new IllegalStateException("this harness does not run servers");
        });
    }

    CliHarness(Map<String, String> env, Path home, ServerLauncher launcher, StopSignal stop) {
        this.env = env;
        this.home = home;
        this.launcher = launcher;
        this.stop = stop;
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext context = new CliContext(ConfigEnvironment.of(env, home), new PrintWriter(out), new PrintWriter(err), launcher, stop);
        int code = Main.run(args, context);
        return new Result(code, out.toString(), err.toString());
    }
}
