package dev.sigil.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil bundle show}: the trust domain's bundle, as PEM roots or as a SPIFFE bundle (JWKS). */
@Command(name = "bundle", description = "Shows the trust bundle.", subcommands = BundleCommand.Show.class)
final class BundleCommand extends GroupCommand {
    enum Format { pem, spiffe }

    @Command(name = "show", description = "Prints the server's trust bundle (GET /v1/bundle).")
    static final class Show extends ClientCommand {
        @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "pem",
                description = "pem (X.509 roots) or spiffe (SPIFFE bundle JSON) (default: ${DEFAULT-VALUE}).")
        Format format;

        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.get("/v1/bundle", Map.of("format", List.of(format.name())));
            print(answer.json(), json -> {
                if (format == Format.pem) {
                    out.print(json.path("pem").asText());
                } else {
                    Output.json(out, json.path("bundle"));
                }
            });
            return 0;
        }
    }
}
