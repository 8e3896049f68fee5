package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.Printable;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil inventory}: every identity (registration entry) with its owner, parent, trust level, activity,
 * live credentials and tasks, or with {@code --agents} every agent (GET /v1/inventory). {@code table} (the
 * default) is for people, {@code csv} for spreadsheets, {@code json} is the server's answer as is.
 * Values that came from outside (owners, selectors, SPIFFE IDs) are printed without control characters,
 * and a CSV cell that a spreadsheet would read as a formula is prefixed with a quote.
 */
@Command(name = "inventory", description = "Lists every identity with its owner, activity and live credentials, or every agent "
        + "(GET /v1/inventory).")
final class InventoryCommand extends ClientCommand {
    @Option(names = "--agents", description = "List the agents instead of the identities.")
    boolean agents;

    InventoryCommand(CliContext context) {
        super(context);
    }

    @Override
    Set<OutputFormat> outputs() {
        return Set.of(OutputFormat.text, OutputFormat.table, OutputFormat.csv, OutputFormat.json);
    }

    @Override
    int run(AdminClient client, PrintWriter out) {
        JsonNode inventory = client.get("/v1/inventory").json();
        if (options.output() == OutputFormat.json) {
            Output.json(out, inventory);
            return 0;
        }
        List<String> header = agents
                ? List.of("spiffe_id", "attestor", "trust_level", "last_seen", "svid_expires_at", "banned", "entries")
                : List.of("spiffe_id", "owner", "parent_id", "trust_level", "attestor", "created_at", "last_served", "last_exchanged",
                "credentials", "oldest_credential_age", "longest_credential_ttl", "tasks", "drift_count", "selectors", "entry_id");
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode row : inventory.path(agents ? "agents" : "identities")) {
            rows.add(agents ? agentRow(row) : identityRow(row));
        }
        if (options.output() == OutputFormat.csv) {
            out.println(Csv.line(header));
            rows.forEach(row -> out.println(Csv.line(row)));
        } else {
            if (!inventory.path("activity_complete").asBoolean(true)) {
                out.println("note: the audit window held more records than governance.max_audit_records; recent activity may be missing");
            }
            out.println(agents ? rows.size() + " agent(s)" : rows.size() + " identit" + (rows.size() == 1 ? "y" : "ies")
                    + "; activity since " + inventory.path("activity_since").asText());
            if (!rows.isEmpty()) {
                Table.print(out, header.stream().map(h -> h.replace('_', ' ').toUpperCase(java.util.Locale.ROOT)).toList(), rows);
            }
        }
        return 0;
    }

    private static List<String> identityRow(JsonNode identity) {
        JsonNode credentials = identity.path("credentials");
        long oldest = 0;
        long longest = 0;
        Set<String> brokers = new TreeSet<>();
        for (JsonNode credential : credentials) {
            oldest = Math.max(oldest, credential.path("age").asLong());
            longest = Math.max(longest, credential.path("max_ttl").asLong());
            brokers.add(credential.path("broker").asText());
        }
        List<String> selectors = new ArrayList<>();
        identity.path("selectors").forEach(s -> selectors.add(s.asText()));
        return List.of(text(identity, "spiffe_id"), text(identity, "owner"), text(identity, "parent_id"), text(identity, "trust_level"),
                text(identity, "attestor"), text(identity, "created_at"), text(identity, "last_served"), text(identity, "last_exchanged"),
                credentials.isEmpty() ? "0" : credentials.size() + " (" + String.join(",", brokers) + ")",
                credentials.isEmpty() ? "" : seconds(oldest), credentials.isEmpty() ? "" : seconds(longest),
                Integer.toString(identity.path("tasks").size()), text(identity, "drift_count"),
                Printable.clip(String.join(" ", selectors), 200), text(identity, "entry_id"));
    }

    private static List<String> agentRow(JsonNode agent) {
        return List.of(text(agent, "spiffe_id"), text(agent, "attestor"), text(agent, "trust_level"), text(agent, "last_seen"),
                text(agent, "svid_expires_at"), text(agent, "banned"), text(agent, "entries"));
    }

    private static String seconds(long seconds) {
        return dev.sigil.core.time.Durations.format(java.time.Duration.ofSeconds(seconds));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isMissingNode() || value.isNull() ? "" : Printable.clip(value.asText(), 300);
    }

    /** Aligned columns. */
    static final class Table {
        private Table() {
        }

        static void print(PrintWriter out, List<String> header, List<List<String>> rows) {
            int[] widths = new int[header.size()];
            for (int i = 0; i < header.size(); i++) {
                widths[i] = header.get(i).length();
                for (List<String> row : rows) {
                    widths[i] = Math.max(widths[i], row.get(i).length());
                }
            }
            line(out, header, widths);
            rows.forEach(row -> line(out, row, widths));
        }

        private static void line(PrintWriter out, List<String> cells, int[] widths) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < cells.size(); i++) {
                text.append(i == cells.size() - 1 ? cells.get(i) : String.format("%-" + widths[i] + "s  ", cells.get(i)));
            }
            out.println(text.toString().stripTrailing());
        }
    }

    /** RFC 4180 lines; cells a spreadsheet would evaluate ({@code =}, {@code +}, {@code -}, {@code @}) get a leading quote. */
    static final class Csv {
        private Csv() {
        }

        static String line(List<String> cells) {
            List<String> quoted = new ArrayList<>();
            for (String cell : cells) {
                String value = !cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0 ? "'" + cell : cell;
                quoted.add(value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")
                        ? "\"" + value.replace("\"", "\"\"") + "\"" : value);
            }
            return String.join(",", quoted);
        }
    }
}
