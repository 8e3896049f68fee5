package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A command that talks to a running server through the admin API. */
abstract class ClientCommand implements Callable<Integer> {
    @Mixin
    ClientOptions options;

    @Spec
    CommandSpec spec;

    final CliContext context;

    ClientCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public final Integer call() {
        if (!outputs().contains(options.output())) {
            throw usage("--output " + options.output() + " is not offered by this command; use one of "
                    + outputs().stream().map(Enum::name).sorted().toList());
        }
        try (AdminClient client = options.connect(context.environment())) {
            return run(client, context.out());
        }
    }

    /** The output formats this command prints ({@code text} and {@code json} unless it says otherwise). */
    java.util.Set<OutputFormat> outputs() {
        return OutputFormat.TEXT_AND_JSON;
    }

    /** Does the work and returns the exit code. */
    abstract int run(AdminClient client, PrintWriter out);

    /** Prints {@code json} raw for {@code --output json}, else with {@code text}. */
    void print(JsonNode json, Consumer<JsonNode> text) {
        if (options.output() == OutputFormat.json) {
            Output.json(context.out(), json);
        } else {
            text.accept(json);
        }
    }

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    static <T> List<T> orEmpty(List<T> values) {
        return values == null ? List.of() : values;
    }
}
