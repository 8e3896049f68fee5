package dev.sigil.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sigil.server.admin.ApiJson;
import dev.sigil.core.time.Durations;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Prints API answers: as indented JSON for {@code --output json}, or as aligned "Label : value" blocks. */
final class Output {
    private static final int LABEL_WIDTH = 17;

    private Output() {
    }

    static void json(PrintWriter out, JsonNode node) {
        try {
            out.println(Pretty.MAPPER.writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new CliException("cannot print the answer as json: " + e.getOriginalMessage(), 1, e);
        }
    }

    /**
     * The mapper of {@code --output json}, built on first use: text output (the default) never builds
     * one, which for a Workload API command is Jackson's whole start-up.
     */
    private static final class Pretty {
        static final ObjectMapper MAPPER = ApiJson.newMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    static void field(PrintWriter out, String label, String value) {
        out.println(String.format("%-" + LABEL_WIDTH + "s: %s", label, value));
    }

    /** One registration entry in the shape of docs/admin-api.md. */
    static void entry(PrintWriter out, JsonNode entry) {
        text(out, entry, "Entry ID", "id");
        text(out, entry, "Revision", "revision");
        text(out, entry, "SPIFFE ID", "spiffe_id");
        text(out, entry, "Parent ID", "parent_id");
        text(out, entry, "Owner", "owner");
        seconds(out, entry, "X509-SVID TTL", "x509_svid_ttl");
        seconds(out, entry, "JWT-SVID TTL", "jwt_svid_ttl");
        for (JsonNode selector : entry.path("selectors")) {
            field(out, "Selector", selector.isObject()
                    ? selector.path("type").asText() + ":" + selector.path("value").asText() : selector.asText());
        }
        for (JsonNode name : entry.path("dns_names")) {
            field(out, "DNS name", name.asText());
        }
        for (JsonNode domain : entry.path("federates_with")) {
            field(out, "Federates with", domain.asText());
        }
        if (entry.path("admin").asBoolean(false)) {
            field(out, "Admin", "true");
        }
        text(out, entry, "Hint", "hint");
        text(out, entry, "Expires at", "expires_at");
        text(out, entry, "Created at", "created_at");
    }

    static void entries(PrintWriter out, List<JsonNode> entries) {
        out.println(entries.size() == 1 ? "Found 1 entry" : "Found " + entries.size() + " entries");
        for (JsonNode entry : entries) {
            out.println();
            entry(out, entry);
        }
    }

    /** Any object as "key : value" lines, for answers without a dedicated layout. */
    static void generic(PrintWriter out, JsonNode node) {
        if (!node.isObject()) {
            out.println(node.isTextual() ? node.asText() : node.toString());
            return;
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            JsonNode value = field.getValue();
            field(out, field.getKey().replace('_', ' '), value.isValueNode() ? value.asText() : value.toString());
        }
    }

    private static void text(PrintWriter out, JsonNode node, String label, String name) {
        JsonNode value = node.path(name);
        if (!value.isMissingNode() && !value.isNull() && !value.asText().isEmpty()) {
            field(out, label, value.asText());
        }
    }

    private static void seconds(PrintWriter out, JsonNode node, String label, String name) {
        JsonNode value = node.path(name);
        if (value.canConvertToLong() && value.asLong() > 0) {
            field(out, label, Durations.format(Duration.ofSeconds(value.asLong())));
        }
    }
}
