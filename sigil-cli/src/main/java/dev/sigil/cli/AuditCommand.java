package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.Command;

/**
 * {@code sigil audit verify}: asks the server to re-check the audit hash chain and its signed
 * checkpoints; exit 1 when broken. {@code sigil audit query}: records by workload, resource, task,
 * action prefix or kind ({@code --kind drift}: workload drift reports, with what changed) and time.
 */
@Command(name = "audit", description = "Works with the audit trail.", subcommands = {AuditCommand.Verify.class, AuditCommand.Query.class})
final class AuditCommand extends GroupCommand {

    @Command(name = "query", description = "Lists audit records matching every given filter (GET /v1/audit).")
    static final class Query extends ClientCommand {
        @Option(names = "--workload", paramLabel = "ID", description = "Records whose actor or subject is this SPIFFE ID.")
        String workload;

        @Option(names = "--resource", paramLabel = "R", description = "Records whose details name this resource.")
        String resource;

        @Option(names = "--task", paramLabel = "T", description = "Records whose details name this task.")
        String task;

        @Option(names = "--action", paramLabel = "PREFIX", description = "Records whose action starts with this (e.g. svid.).")
        String action;

        @Option(names = "--kind", paramLabel = "KIND", description = "Records of one kind: an action prefix by name; "
                + "'drift' is workload.drift (workloads that drifted or exited holding an identity), any other k is 'k.' "
                + "(e.g. entry, agent, svid). Not with --action.")
        String kind;

        @Option(names = "--token-hash", paramLabel = "HASH", description = "Records whose token_hmac detail is this keyed hash.")
        String tokenHash;

        @Option(names = "--since", paramLabel = "TIME", description = "Records at or after this RFC 3339 time.")
        String since;

        @Option(names = "--until", paramLabel = "TIME", description = "Records before this RFC 3339 time.")
        String until;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many records (default: ${DEFAULT-VALUE}).")
        int limit;

        Query(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, List<String>> query = new LinkedHashMap<>();
            put(query, "workload", workload);
            put(query, "resource", resource);
            put(query, "task", task);
            put(query, "action", action);
            put(query, "kind", kind);
            put(query, "token_hmac", tokenHash);
            put(query, "since", since);
            put(query, "until", until);
            put(query, "limit", Integer.toString(limit));
            print(withDetailObjects(client.get("/v1/audit", query).json()), json -> {
                for (JsonNode record : json.path("results")) {
                    String line = String.join(" ", record.path("seq").asText(), record.path("time").asText(), record.path("actor").asText(),
                            record.path("action").asText(), record.path("subject").asText(), record.path("outcome").asText());
                    out.println(record.path("action").asText().startsWith("workload.drift") ? line + drift(record) : line);
                }
            });
            return 0;
        }

        /** The answer with each record's {@code details} (a JSON text in the admin API) as a JSON object. */
        private static JsonNode withDetailObjects(JsonNode answer) {
            JsonNode copy = answer.deepCopy();
            com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
            for (JsonNode record : copy.path("results")) {
                JsonNode details = record.path("details");
                if (details.isTextual() && record instanceof com.fasterxml.jackson.databind.node.ObjectNode object) {
                    try {
                        object.set("details", mapper.readTree(details.asText()));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        // not JSON: left as the text it is
                    }
                }
            }
            return copy;
        }

        /** What changed: the drift id, reason, pid and the selectors removed and added. */
        private static String drift(JsonNode record) {
            JsonNode details;
            try {
                details = record.path("details").isObject() ? record.path("details")
                        : new com.fasterxml.jackson.databind.ObjectMapper().readTree(record.path("details").asText("{}"));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return "";
            }
            StringBuilder out = new StringBuilder();
            for (String key : List.of("drift_id", "reason", "pid", "selectors_removed", "selectors_added")) {
                if (details.hasNonNull(key)) {
                    out.append(' ').append(key).append('=').append(details.path(key).asText());
                }
            }
            return out.toString();
        }

        private static void put(Map<String, List<String>> query, String name, String value) {
            if (value != null) {
                query.put(name, List.of(value));
            }
        }
    }

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
