package dev.sigil.cli;

import dev.sigil.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil token generate}: a one-time join token for attesting a node. */
@Command(name = "token", description = "Generates join tokens.", subcommands = TokenCommand.Generate.class)
final class TokenCommand extends GroupCommand {

    /** Body of POST /v1/join-tokens; ttl in seconds. */
    record TokenBody(SpiffeId spiffeId, long ttl, String owner) {
    }

    @Command(name = "generate", description = "Generates a one-time join token (POST /v1/join-tokens).")
    static final class Generate extends ClientCommand {
        @Option(names = "--spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "Also create a node alias entry with this SPIFFE ID for the node that attests with the token "
                        + "(as SPIRE's -spiffeID): entries whose parent is ID are served by that node.")
        SpiffeId spiffeId;

        @Option(names = "--owner", paramLabel = "OWNER",
                description = "Owner of the node alias entry (default: whoever generates the token).")
        String owner;

        @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "10m", converter = Converters.DurationConverter.class,
                description = "How long the token can be used (default: ${DEFAULT-VALUE}).")
        Duration ttl;

        Generate(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.post("/v1/join-tokens", new TokenBody(spiffeId, ttl.toSeconds(), owner));
            print(answer.json(), json -> {
                Output.field(out, "Token", json.path("token").asText());
                if (json.hasNonNull("spiffe_id")) {
                    Output.field(out, "SPIFFE ID", json.path("spiffe_id").asText());
                }
                if (json.hasNonNull("alias_entry_id")) {
                    Output.field(out, "Alias entry", json.path("alias_entry_id").asText());
                }
                if (json.hasNonNull("expires_at")) {
                    Output.field(out, "Expires at", json.path("expires_at").asText());
                }
            });
            return 0;
        }
    }
}
