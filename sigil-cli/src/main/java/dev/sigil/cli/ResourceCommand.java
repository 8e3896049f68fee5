package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sigil resource create|list|metadata|delete}: resource servers (such as MCP servers) registered
 * with the token service, whose tokens are bound to their URI (RFC 8707) and limited to the scopes they
 * define, and whose RFC 9728 protected resource metadata Sigil generates.
 */
@Command(name = "resource", description = "Registers resource servers (e.g. MCP servers) and prints their RFC 9728 metadata.",
        subcommands = {ResourceCommand.Create.class, ResourceCommand.ListResources.class, ResourceCommand.Metadata.class,
                ResourceCommand.Delete.class})
final class ResourceCommand extends GroupCommand {

    record CreateBody(String uri, List<String> scopes, String name) {
    }

    static String query(String uri) {
        return "?uri=" + URLEncoder.encode(uri, StandardCharsets.UTF_8);
    }

    static void resource(PrintWriter out, JsonNode resource) {
        Output.field(out, "URI", resource.path("uri").asText());
        if (resource.hasNonNull("name")) {
            Output.field(out, "Name", resource.path("name").asText());
        }
        Output.field(out, "Scopes", String.join(" ", texts(resource.path("scopes"))));
        Output.field(out, "Created at", resource.path("created_at").asText());
        Output.field(out, "Created by", resource.path("created_by").asText());
    }

    private static List<String> texts(JsonNode array) {
        java.util.List<String> values = new java.util.ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

    @Command(name = "create", description = "Registers a resource server (POST /v1/resources).")
    static final class Create extends ClientCommand {
        @Option(names = "--uri", required = true, paramLabel = "URI",
                description = "The resource's canonical https URI, as clients send it in 'resource', e.g. https://mcp.example.com/.")
        String uri;

        @Option(names = "--scopes", required = true, split = ",", paramLabel = "SCOPE[,SCOPE...]",
                description = "The scopes the resource defines; tokens for it carry only these.")
        List<String> scopes;

        @Option(names = "--name", paramLabel = "TEXT", description = "A human-readable name (resource_name in the metadata).")
        String name;

        Create(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.post("/v1/resources", new CreateBody(uri, scopes, name)).json(), resource -> resource(out, resource));
            return 0;
        }
    }

    @Command(name = "list", description = "Lists registered resources (GET /v1/resources).")
    static final class ListResources extends ClientCommand {
        ListResources(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/resources").json(), json -> {
                JsonNode resources = json.path("resources");
                if (resources.isEmpty()) {
                    out.println("no resources");
                }
                boolean first = true;
                for (JsonNode resource : resources) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    resource(out, resource);
                }
            });
            return 0;
        }
    }

    @Command(name = "metadata", description = "Prints a resource's RFC 9728 protected resource metadata (GET /v1/resources/metadata), "
            + "for the resource server to publish at /.well-known/oauth-protected-resource.")
    static final class Metadata extends ClientCommand {
        @Parameters(index = "0", paramLabel = "URI", description = "The registered resource.")
        String uri;

        Metadata(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            // the document is JSON whatever --output says: it is what the resource server serves
            Output.json(out, client.get("/v1/resources/metadata" + query(uri)).json());
            return 0;
        }
    }

    @Command(name = "delete", description = "Deletes a resource's registration (DELETE /v1/resources).")
    static final class Delete extends ClientCommand {
        @Parameters(index = "0", paramLabel = "URI", description = "The registered resource.")
        String uri;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            JsonNode answer = client.delete("/v1/resources" + query(uri)).json();
            print(answer, json -> out.println("deleted " + json.path("deleted").asText()));
            return 0;
        }
    }
}
