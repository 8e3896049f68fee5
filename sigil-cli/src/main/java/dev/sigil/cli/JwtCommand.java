package dev.sigil.cli;

import dev.sigil.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil jwt mint}: a JWT-SVID signed by the server, printed alone so it can be piped. */
@Command(name = "jwt", description = "Mints JWT-SVIDs.", subcommands = JwtCommand.Mint.class)
final class JwtCommand extends GroupCommand {

    /** Body of POST /v1/svids/jwt; ttl in seconds, absent for the server default. */
    record MintBody(SpiffeId spiffeId, List<String> audience, Long ttl) {
    }

    @Command(name = "mint", description = "Mints a JWT-SVID (POST /v1/svids/jwt).")
    static final class Mint extends ClientCommand {
        @Option(names = "--spiffe-id", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The SPIFFE ID (sub claim).")
        SpiffeId spiffeId;

        @Option(names = "--audience", required = true, paramLabel = "AUD", description = "An audience (aud claim; repeatable, at least one).")
        List<String> audience;

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Lifetime (default: the server's default_jwt_svid_ttl).")
        Duration ttl;

        Mint(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.post("/v1/svids/jwt",
                    new MintBody(spiffeId, audience, ttl == null ? null : ttl.toSeconds()));
            TtlCap.warnIfCapped(context.err(), "jwt-svid", ttl, answer.json().get("expires_at"));
            print(answer.json(), json -> out.println(json.path("token").asText()));
            return 0;
        }
    }
}
