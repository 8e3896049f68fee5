package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.Printable;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sigil owner transfer|offboard}: moving an owner's identities, or taking everything away from a leaving owner. */
@Command(name = "owner", description = "Transfers an owner's identities or offboards an owner.",
        subcommands = {OwnerCommand.Transfer.class, OwnerCommand.Offboard.class})
final class OwnerCommand extends GroupCommand {

    @Command(name = "transfer", description = "Makes another owner accountable for every entry of OWNER (POST /v1/owners/transfer).")
    static final class Transfer extends ClientCommand {
        @Parameters(index = "0", paramLabel = "OWNER", description = "The current owner, as entries name it.")
        String owner;

        @Option(names = "--to", required = true, paramLabel = "OWNER", description = "The new owner.")
        String to;

        @Option(names = "--dry-run", description = "Only list the entries that would move; change nothing.")
        boolean dryRun;

        Transfer(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("owner", owner);
            body.put("to", to);
            body.put("dry_run", dryRun);
            print(client.post("/v1/owners/transfer", body).json(), json -> {
                int count = json.path("entries").size();
                out.println((dryRun ? "would transfer " : "transferred ") + count + " entr" + (count == 1 ? "y" : "ies") + " from '"
                        + Printable.clip(owner) + "' to '" + Printable.clip(to) + "'");
                json.path("entries").forEach(id -> Output.field(out, "Entry ID", id.asText()));
            });
            return 0;
        }
    }

    @Command(name = "offboard", description = "Ends OWNER's tasks, deletes OWNER's entries and revokes everything their identities hold: "
            + "leases, access tokens, JWT-SVIDs (POST /v1/owners/offboard).")
    static final class Offboard extends ClientCommand {
        @Parameters(index = "0", paramLabel = "OWNER", description = "The leaving owner, as entries name it.")
        String owner;

        @Option(names = "--dry-run", description = "Only list what would be revoked; change nothing.")
        boolean dryRun;

        Offboard(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("owner", owner);
            body.put("dry_run", dryRun);
            print(client.post("/v1/owners/offboard", body).json(), json -> {
                out.println((dryRun ? "dry run, nothing changed: offboarding '" : "offboarded '") + Printable.clip(owner) + "' "
                        + (dryRun ? "would delete " : "deleted ") + json.path("entries").size() + " entr"
                        + (json.path("entries").size() == 1 ? "y" : "ies") + ", " + (dryRun ? "end " : "ended ")
                        + json.path("tasks").size() + " task(s) and " + (dryRun ? "revoke " : "revoked ") + json.path("leases").size()
                        + " lease(s)" + (dryRun ? "" : " and " + json.path("revoked_tokens").asInt() + " access token(s)"));
                list(out, "Identity", json.path("identities"));
                list(out, "Kept (shared)", json.path("shared_identities"));
                list(out, "Entry ID", json.path("entries"));
                list(out, "Task", json.path("tasks"));
                list(out, "Lease", json.path("leases"));
            });
            return 0;
        }

        private static void list(PrintWriter out, String label, JsonNode values) {
            values.forEach(value -> Output.field(out, label, Printable.clip(value.asText(), 300)));
        }
    }
}
