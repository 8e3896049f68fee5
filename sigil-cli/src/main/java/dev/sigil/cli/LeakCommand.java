package dev.sigil.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil leak report}: the leaked-credential response. */
@Command(name = "leak", description = "Responds to leaked credentials.", subcommands = LeakCommand.Report.class)
final class LeakCommand extends GroupCommand {

    static final class Source {
        @Option(names = "--value", required = true, paramLabel = "V", description = "The leaked value (a password, certificate line or token).")
        String value;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "A file holding the leaked value.")
        Path file;
    }

    @Command(name = "report", description = "Finds the lease, access token or JWT-SVID a leaked value belongs to and revokes it at once "
            + "(POST /v1/leaks).")
    static final class Report extends ClientCommand {
        @ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        @Option(names = "--ban", description = "Also delete the holder's registration entries (recorded in the audit trail for restoring).")
        boolean ban;

        Report(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            String value;
            try {
                value = source.value != null ? source.value : Files.readString(source.file);
            } catch (IOException e) {
                throw new CliException("cannot read " + source.file + ": " + e.getMessage());
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("value", value);
            body.put("ban", ban);
            print(client.post("/v1/leaks", body).json(), json -> {
                if (!json.path("found").asBoolean()) {
                    out.println("no lease, access token or jwt-svid matches the reported value");
                    return;
                }
                json.path("leases").forEach(id -> Output.field(out, "Revoked lease", id.asText()));
                if (json.path("token_revoked").asBoolean()) {
                    out.println("revoked the token");
                }
                json.path("holders").forEach(holder -> Output.field(out, "Holder", holder.asText()));
                if (ban) {
                    Output.field(out, "Deleted entries", json.path("banned_entries").asText());
                }
            });
            return 0;
        }
    }
}
