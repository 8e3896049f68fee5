package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil entry show} and {@code sigil entry list}: read entries, following pagination. */
final class EntryQueries {
    static final int PAGE_SIZE = 200;

    private EntryQueries() {
    }

    enum Match { exact, subset, superset }

    /** Every entry matching {@code query}, page after page, as {@code {"entries":[...]}}. */
    static ObjectNode listAll(AdminClient client, Map<String, List<String>> query) {
        ArrayNode entries = JsonNodeFactory.instance.arrayNode();
        String token = "";
        do {
            Map<String, List<String>> page = new LinkedHashMap<>(query);
            page.put("page_size", List.of(String.valueOf(PAGE_SIZE)));
            if (!token.isEmpty()) {
                page.put("page_token", List.of(token));
            }
            JsonNode answer = client.get("/v1/entries", page).json();
            answer.path("entries").forEach(entries::add);
            token = answer.path("next_page_token").asText("");
        } while (!token.isEmpty());
        ObjectNode all = JsonNodeFactory.instance.objectNode();
        all.set("entries", entries);
        return all;
    }

    static void printAll(ClientCommand command, PrintWriter out, ObjectNode all) {
        command.print(all, json -> {
            List<JsonNode> list = new ArrayList<>();
            json.path("entries").forEach(list::add);
            Output.entries(out, list);
        });
    }

    @Command(name = "show", description = "Shows one entry (--id) or the entries matching the filters (GET /v1/entries).")
    static final class Show extends ClientCommand {
        @Option(names = "--id", paramLabel = "ID", description = "Show only this entry.")
        String id;

        @Option(names = "--spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "Entries issuing this SPIFFE ID.")
        SpiffeId spiffeId;

        @Option(names = "--parent-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "Entries under this parent.")
        SpiffeId parentId;

        @Option(names = "--selector", paramLabel = "TYPE:VALUE", converter = Converters.SelectorConverter.class,
                description = "Entries with this selector (repeatable; see --match).")
        List<Converters.Selector> selectors;

        @Option(names = "--match", paramLabel = "MODE", defaultValue = "superset",
                description = "How --selector filters: exact, subset or superset (default: ${DEFAULT-VALUE}).")
        Match match;

        @Option(names = "--owner", paramLabel = "OWNER", description = "Entries owned by this team or person.")
        String owner;

        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            if (id != null) {
                if (spiffeId != null || parentId != null || selectors != null || owner != null) {
                    throw usage("--id cannot be combined with --spiffe-id, --parent-id, --selector or --owner");
                }
                print(client.get(EntryCommand.entryPath(id)).json(), entry -> Output.entry(out, entry));
                return 0;
            }
            Map<String, List<String>> query = new LinkedHashMap<>();
            if (spiffeId != null) {
                query.put("spiffe_id", List.of(spiffeId.toString()));
            }
            if (parentId != null) {
                query.put("parent_id", List.of(parentId.toString()));
            }
            if (selectors != null) {
                query.put("selector", selectors.stream().map(s -> s.type() + ":" + s.value()).toList());
                query.put("match", List.of(match.name()));
            }
            if (owner != null) {
                query.put("owner", List.of(owner));
            }
            printAll(this, out, listAll(client, query));
            return 0;
        }
    }

    @Command(name = "list", description = "Lists every registration entry (GET /v1/entries).")
    static final class ListEntries extends ClientCommand {
        ListEntries(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            printAll(this, out, listAll(client, Map.of()));
            return 0;
        }
    }
}
