package dev.sigil.cli;

import dev.sigil.cli.server.ServerCommand;
import dev.sigil.cli.server.ServerLauncher;
import dev.sigil.cli.server.StopSignal;
import dev.sigil.cli.server.SigilServerLauncher;
import dev.sigil.server.config.ConfigEnvironment;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code sigil} command. Exit codes: 0 success, 1 failure (server error, unreachable server,
 * unhealthy, broken audit trail), 2 usage error. Failures print one line, {@code sigil: <message>},
 * on stderr; {@code --debug} adds the stack trace.
 */
@Command(name = "sigil", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sigil workload identity: server, registration, tokens and SVIDs.")
public final class Main extends GroupCommand {
    /**
     * The top-level commands by name, in the order help lists them. Picocli reflects on every command it
     * is given and loads the types of all their options (the agent's configuration, protobuf messages,
     * Bouncy Castle from signed jars), so a command line that names one of them gets only that one. The
     * names are written out rather than read from each class's {@code @Command}, which would parse the
     * annotations of every command on every run; MainTest checks that they match.
     */
    static final Map<String, Class<?>> COMMANDS = commands(
            "server", ServerCommand.class, "healthcheck", HealthcheckCommand.class, "entry", EntryCommand.class,
            "agent", AgentCommand.class, "dev", DevCommand.class, "console", ConsoleCommand.class, "token", TokenCommand.class,
            "bundle", BundleCommand.class, "x509", X509Command.class, "jwt", JwtCommand.class, "audit", AuditCommand.class,
            "task", TaskCommand.class, "policy", PolicyCommand.class, "lease", LeaseCommand.class, "leak", LeakCommand.class,
            "credential", CredentialCommand.class, "completion", CompletionCommand.class, "inventory", InventoryCommand.class,
            "report", ReportCommand.class, "owner", OwnerCommand.class, "resource", ResourceCommand.class,
            "federation", FederationCommand.class);

    static {
        // Picocli's default factory looks for Groovy's Closure class once, by name: on this class path
        // that is a miss in every one of its ~80 jars, opened one after another (~50 ms per command).
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        // SLF4J would look for its provider in every jar as well; Logback is the one this CLI ships,
        // configured without its own look-up of configurators in every jar (LogbackProvider).
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", LogbackProvider.class.getName());
            // (and SLF4J would say, on standard error, that it was told which provider to use)
            if (System.getProperty("slf4j.internal.verbosity") == null) {
                System.setProperty("slf4j.internal.verbosity", "WARN");
            }
        }
    }

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of failures.")
    boolean debug;

    public static void main(String[] args) {
        ClassPathPrefetch.startFor(args);
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        StopSignal.JvmShutdown stopSignal = StopSignal.jvmShutdown();
        CliContext context = new CliContext(ConfigEnvironment.system(), out, err, defaultLauncher(), stopSignal);
        int code = run(args, context);
        out.flush();
        err.flush();
        System.out.flush();
        System.err.flush();
        if (stopSignal.hooked()) {
            System.exit(code);
        }
        // A command that never waited for a stop signal (every short one) registered no shutdown hook
        // of ours and has written and flushed all it will write. System.exit would, before exiting,
        // look for a logging backend to report the exit to (JDK 17+), a service lookup that opens
        // every jar on the class path; halting ends the process with the same code without it.
        Runtime.getRuntime().halt(code);
    }

    /**
     * The server the CLI starts. The composition root replaces this with its own launcher
     * (e.g. {@code SigilServer::start}); until then only the admin transport runs.
     */
    static ServerLauncher defaultLauncher() {
        return new SigilServerLauncher();
    }

    /** Runs one command line in-process and returns its exit code. */
    public static int run(String[] args, CliContext context) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine commandLine = commandLine(commandsFor(args), context);
        commandLine.setParameterExceptionHandler((exception, parsedArgs) -> {
            PrintWriter err = exception.getCommandLine().getErr();
            err.println("sigil: " + exception.getMessage());
            err.println("see '" + exception.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            err.flush();
            return 2;
        });
        commandLine.setExecutionExceptionHandler((exception, failed, parseResult) -> {
            PrintWriter err = failed.getErr();
            if (exception instanceof CliException cli) {
                err.println("sigil: " + cli.getMessage());
            } else if (exception instanceof IOException || exception instanceof java.io.UncheckedIOException) {
                err.println("sigil: " + IoProblems.describe(IoProblems.cause(exception).orElseThrow()));
            } else {
                err.println("sigil: unexpected error: " + exception + (debug ? "" : " (run with --debug for details)"));
            }
            if (debug) {
                exception.printStackTrace(err);
            }
            err.flush();
            return exception instanceof CliException cli ? cli.exitCode() : 1;
        });
        int code = commandLine.execute(args);
        context.out().flush();
        context.err().flush();
        return code;
    }

    /** The {@code sigil} command with the given top-level commands, as it parses a command line. */
    static CommandLine commandLine(Map<String, Class<?>> commands, CliContext context) {
        CommandLine commandLine = new CommandLine(new Main(), new ContextFactory(context));
        commands.forEach(commandLine::addSubcommand);
        commandLine.setOut(context.out());
        commandLine.setErr(context.err());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        withHelpEverywhere(commandLine);
        return commandLine;
    }

    /**
     * The top-level commands a command line needs: the one its first word names; none for a bare version
     * request; all of them otherwise (help, usage errors and their suggestions list every command).
     */
    static Map<String, Class<?>> commandsFor(String[] args) {
        List<String> words = Arrays.stream(args).filter(arg -> !arg.startsWith("-")).toList();
        if (!words.isEmpty() && COMMANDS.containsKey(words.get(0))) {
            return Map.of(words.get(0), COMMANDS.get(words.get(0)));
        }
        List<String> all = Arrays.asList(args);
        boolean versionOnly = (all.contains("--version") || all.contains("-V"))
                && Set.of("--version", "-V", "--debug").containsAll(all);
        return versionOnly ? Map.of() : COMMANDS;
    }

    /** {@code namesAndTypes}: a command's name, then its class, for each command in order. */
    private static Map<String, Class<?>> commands(Object... namesAndTypes) {
        Map<String, Class<?>> byName = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTypes.length; i += 2) {
            byName.put((String) namesAndTypes[i], (Class<?>) namesAndTypes[i + 1]);
        }
        return Collections.unmodifiableMap(byName);
    }

    /** Gives every subcommand {@code -h/--help}, so the hint printed with a usage error works at any level. */
    private static void withHelpEverywhere(CommandLine commandLine) {
        for (CommandLine sub : commandLine.getSubcommands().values()) {
            if (!sub.getCommandSpec().mixinStandardHelpOptions()) {
                sub.getCommandSpec().mixinStandardHelpOptions(true);
            }
            withHelpEverywhere(sub);
        }
    }

    /** Builds commands by hand, giving those that want it the {@link CliContext}. */
    record ContextFactory(CliContext context) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            try {
                Constructor<K> constructor = type.getDeclaredConstructor(CliContext.class);
                constructor.setAccessible(true);
                return constructor.newInstance(context);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(type);
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sigil " + (version == null ? "development build" : version)};
        }
    }
}
