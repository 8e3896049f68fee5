package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code sigil audit verify}: asks the server to re-check the audit hash chain; exit 1 when broken. */
@Command(name = "audit", description = "Works with the audit trail.", subcommands = AuditCommand.Verify.class)
final class AuditCommand extends GroupCommand {

    @Command(name = "verify", description = "Verifies the audit trail's hash chain (POST /v1/audit/verify).")
    static final class Verify extends ClientCommand {
        Verify(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            JsonNode json = client.post("/v1/audit/verify", Map.of()).json();
            boolean intact = json.path("intact").asBoolean(false);
            if (options.output() == OutputFormat.json) {
                Output.json(out, json);
                return intact ? 0 : 1;
            }
            if (!intact) {
                throw new CliException("audit trail is broken at record " + json.path("first_bad_sequence").asText("?")
                        + ": " + json.path("reason").asText("no reason given"));
            }
            out.println("audit trail intact: " + json.path("records").asText("0") + " records"
                    + (json.hasNonNull("head") ? ", head " + json.path("head").asText() : ""));
            return 0;
        }
    }
}
