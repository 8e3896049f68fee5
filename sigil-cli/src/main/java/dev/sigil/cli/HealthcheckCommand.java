package dev.sigil.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil healthcheck}: exit 0 when the server is live and ready (or only live with --shallow). */
@Command(name = "healthcheck", description = "Checks that the server answers and is ready; exits non-zero otherwise.")
final class HealthcheckCommand extends ClientCommand {
    @Option(names = "--shallow", description = "Only check that the server answers (liveness), not that it is ready.")
    boolean shallow;

    HealthcheckCommand(CliContext context) {
        super(context);
    }

    @Override
    int run(AdminClient client, PrintWriter out) {
        AdminClient.Answer answer = client.get(shallow ? "/v1/health/live" : "/v1/health");
        print(answer.json(), json -> out.println(shallow ? "server is live" : "server is healthy"));
        return 0;
    }
}
