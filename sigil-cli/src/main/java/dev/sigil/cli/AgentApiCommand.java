package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTBundlesResponse;
import dev.sigil.proto.workload.JWTSVID;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.ValidateJWTSVIDResponse;
import dev.sigil.server.admin.ApiJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil agent api ...}: operator commands that call the SPIFFE Workload API of a local agent, as
 * this process (the agent attests the CLI's own process and answers with the identities registered for
 * it), like {@code spire-agent api}. Useful to check what a workload running as this user would receive.
 */
@Command(name = "api", description = "Calls the SPIFFE Workload API of the local agent as this process.",
        subcommands = {AgentApiCommand.Fetch.class, AgentApiCommand.Validate.class, WitCommand.Proof.class})
final class AgentApiCommand extends GroupCommand {

    @Command(name = "fetch", description = "Fetches this process's SVIDs from the Workload API.",
            subcommands = {FetchX509Command.class, AgentApiCommand.FetchJwt.class, WitCommand.Fetch.class})
    static final class Fetch extends GroupCommand {
    }

    @Command(name = "validate", description = "Validates SVIDs through the Workload API.",
            subcommands = AgentApiCommand.ValidateJwt.class)
    static final class Validate extends GroupCommand {
    }

    /** The options every Workload API command shares: where the socket is, the output format, the deadline. */
    abstract static class WorkloadApiCommand implements Callable<Integer> {
        @Option(names = "--socket", paramLabel = "PATH",
                description = "The Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else /tmp/sigil-agent/public/api.sock).")
        Path socket;

        @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
                description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        OutputFormat output = OutputFormat.text;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s", converter = Converters.DurationConverter.class,
                description = "How long to wait for the agent's answer (default: ${DEFAULT-VALUE}).")
        Duration timeout = Duration.ofSeconds(10);

        final CliContext context;

        WorkloadApiCommand(CliContext context) {
            this.context = context;
        }

        @Override
        public final Integer call() {
            WorkloadEndpoint endpoint = WorkloadEndpoint.resolve(socket, context.environment());
            try (WorkloadApiClient client = new WorkloadApiClient(endpoint, timeout)) {
                return run(client, context.out());
            }
        }

        /** Does the work and returns the exit code. */
        abstract int run(WorkloadApiClient client, PrintWriter out);

        boolean json() {
            return output == OutputFormat.json;
        }
    }

    @Command(name = "jwt", description = "Fetches JWT-SVIDs for an audience (FetchJWTSVID); prints one 'SPIFFE-ID TOKEN' line per SVID.")
    static final class FetchJwt extends WorkloadApiCommand {
        @Option(names = "--audience", required = true, paramLabel = "AUD", description = "An audience the tokens are for (repeatable).")
        List<String> audience;

        @Option(names = "--spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "Only the JWT-SVID of this SPIFFE ID (default: every identity of this process).")
        SpiffeId spiffeId;

        @Option(names = "--bundles", description = "Also fetch and print the JWT bundles (FetchJWTBundles).")
        boolean bundles;

        FetchJwt(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            JWTSVIDResponse svids = client.fetchJwtSvids(audience, Optional.ofNullable(spiffeId).map(SpiffeId::toString));
            Map<String, JsonNode> jwks = bundles ? jwks(client.fetchJwtBundles()) : Map.of();
            if (json()) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                ArrayNode list = root.putArray("svids");
                for (JWTSVID svid : svids.getSvidsList()) {
                    list.addObject().put("spiffe_id", svid.getSpiffeId()).put("hint", svid.getHint()).put("token", svid.getSvid());
                }
                if (bundles) {
                    ObjectNode bundleNode = root.putObject("bundles");
                    jwks.forEach(bundleNode::set);
                }
                Output.json(out, root);
                return 0;
            }
            for (JWTSVID svid : svids.getSvidsList()) {
                out.println(svid.getSpiffeId() + " " + svid.getSvid());
            }
            for (Map.Entry<String, JsonNode> bundle : jwks.entrySet()) {
                out.println();
                out.println("JWT bundle of " + bundle.getKey() + ":");
                Output.json(out, bundle.getValue());
            }
            return 0;
        }

        /** Each trust domain's JWKS, sorted by trust domain. */
        private static Map<String, JsonNode> jwks(JWTBundlesResponse response) {
            ObjectMapper mapper = ApiJson.newMapper();
            Map<String, JsonNode> result = new TreeMap<>();
            for (Map.Entry<String, ByteString> bundle : response.getBundlesMap().entrySet()) {
                try {
                    result.put(bundle.getKey(), mapper.readTree(bundle.getValue().toString(StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    throw new CliException("the workload api sent a jwt bundle for '" + bundle.getKey() + "' that is not json: "
                            + e.getMessage(), 1, e);
                }
            }
            return result;
        }
    }

    @Command(name = "jwt", description = "Validates a JWT-SVID for an audience (ValidateJWTSVID); prints its SPIFFE ID and claims.")
    static final class ValidateJwt extends WorkloadApiCommand {
        @Option(names = "--audience", required = true, paramLabel = "AUD", description = "The audience the token must be valid for.")
        String audience;

        @Option(names = "--svid", required = true, paramLabel = "TOKEN", description = "The JWT-SVID to validate.")
        String token;

        ValidateJwt(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            ValidateJWTSVIDResponse response = client.validateJwtSvid(audience, token);
            ObjectNode claims = struct(response.getClaims());
            if (json()) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                root.put("spiffe_id", response.getSpiffeId());
                root.set("claims", claims);
                Output.json(out, root);
                return 0;
            }
            out.println("SVID is valid.");
            Output.field(out, "SPIFFE ID", response.getSpiffeId());
            out.println("Claims:");
            Output.json(out, claims);
            return 0;
        }
    }

    /** A protobuf Struct as JSON; whole numbers (exp, iat, nbf) print as integers, not as 1.7E9. */
    static ObjectNode struct(Struct struct) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        new TreeMap<>(struct.getFieldsMap()).forEach((name, value) -> node.set(name, value(value)));
        return node;
    }

    private static JsonNode value(Value value) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (value.getKindCase()) {
            case STRING_VALUE -> nodes.textNode(value.getStringValue());
            case BOOL_VALUE -> nodes.booleanNode(value.getBoolValue());
            case NUMBER_VALUE -> {
                double number = value.getNumberValue();
                yield number == Math.rint(number) && Math.abs(number) < 0x1p53 ? nodes.numberNode((long) number) : nodes.numberNode(number);
            }
            case STRUCT_VALUE -> struct(value.getStructValue());
            case LIST_VALUE -> list(value.getListValue());
            case NULL_VALUE, KIND_NOT_SET -> nodes.nullNode();
        };
    }

    private static ArrayNode list(ListValue list) {
        ArrayNode node = JsonNodeFactory.instance.arrayNode();
        list.getValuesList().forEach(v -> node.add(value(v)));
        return node;
    }
}
