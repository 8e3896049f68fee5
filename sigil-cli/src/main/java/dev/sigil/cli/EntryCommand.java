package dev.sigil.cli;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sigil entry create|update|delete|show|list}: registration entries. */
@Command(name = "entry", description = "Creates, updates, deletes and shows registration entries.",
        subcommands = {EntryCommand.Create.class, EntryCommand.Update.class, EntryCommand.Delete.class,
            EntryQueries.Show.class, EntryQueries.ListEntries.class})
final class EntryCommand extends GroupCommand {

    /** The fields of an entry, shared by create and update. */
    static final class Fields {
        @Option(names = "--spiffe-id", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The SPIFFE ID the entry issues.")
        SpiffeId spiffeId;

        @Option(names = "--parent-id", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The SPIFFE ID of the agent (or node) the workload must run under.")
        SpiffeId parentId;

        @Option(names = "--selector", required = true, paramLabel = "TYPE:VALUE", converter = Converters.SelectorConverter.class,
                description = "A selector the workload must match, e.g. unix:uid:1000 (repeatable; all must match).")
        List<Converters.Selector> selectors;

        @Option(names = "--x509-svid-ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Lifetime of X.509-SVIDs for this entry (default: the server's default_x509_svid_ttl).")
        Duration x509SvidTtl;

        @Option(names = "--jwt-svid-ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Lifetime of JWT-SVIDs for this entry (default: the server's default_jwt_svid_ttl).")
        Duration jwtSvidTtl;

        @Option(names = "--dns", paramLabel = "NAME", description = "A DNS name for the X.509-SVID (repeatable; the first is also the subject CN).")
        List<String> dnsNames;

        @Option(names = "--owner", required = true, paramLabel = "OWNER", description = "The team or person accountable for this identity.")
        String owner;

        @Option(names = "--admin", description = "Holders of this identity may use the admin API over mutual TLS.")
        boolean admin;

        @Option(names = "--hint", paramLabel = "TEXT", description = "A hint for workloads that receive several identities.")
        String hint;

        @Option(names = "--expires-at", paramLabel = "TIME", converter = Converters.InstantConverter.class,
                description = "When the entry stops issuing identities (RFC 3339, e.g. 2026-12-31T23:59:59Z).")
        Instant expiresAt;

        @Option(names = "--federates-with", paramLabel = "TRUST_DOMAIN", converter = Converters.TrustDomainConverter.class,
                description = "A federated trust domain whose bundle the workload also receives (repeatable).")
        List<TrustDomain> federatesWith;

        EntryBody body(Long revision) {
            return new EntryBody(spiffeId, parentId,
                    selectors.stream().map(s -> new SelectorBody(s.type(), s.value())).toList(),
                    x509SvidTtl == null ? null : x509SvidTtl.toSeconds(),
                    jwtSvidTtl == null ? null : jwtSvidTtl.toSeconds(),
                    ClientCommand.orEmpty(dnsNames), owner, admin, hint, expiresAt,
                    ClientCommand.orEmpty(federatesWith), revision);
        }
    }

    /** The request body of POST /v1/entries and PUT /v1/entries/{id}; TTLs in seconds. */
    record EntryBody(SpiffeId spiffeId, SpiffeId parentId, List<SelectorBody> selectors, Long x509SvidTtl, Long jwtSvidTtl,
                     List<String> dnsNames, String owner, boolean admin, String hint, Instant expiresAt,
                     List<TrustDomain> federatesWith, Long revision) {
    }

    record SelectorBody(String type, String value) {
    }

    static String entryPath(String id) {
        return "/v1/entries/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Command(name = "create", description = "Creates a registration entry (POST /v1/entries).")
    static final class Create extends ClientCommand {
        @Mixin
        Fields fields;

        Create(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.post("/v1/entries", fields.body(null));
            print(answer.json(), entry -> Output.entry(out, entry));
            return 0;
        }
    }

    @Command(name = "update", description = "Replaces a registration entry (PUT /v1/entries/{id}).")
    static final class Update extends ClientCommand {
        @Option(names = "--id", required = true, paramLabel = "ID", description = "The entry to update.")
        String id;

        @Option(names = "--revision", paramLabel = "N",
                description = "Only update if the entry is still at this revision (refused with revision_conflict otherwise).")
        Long revision;

        @Mixin
        Fields fields;

        Update(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.put(entryPath(id), fields.body(revision));
            print(answer.json(), entry -> Output.entry(out, entry));
            return 0;
        }
    }

    @Command(name = "delete", description = "Deletes a registration entry (DELETE /v1/entries/{id}).")
    static final class Delete extends ClientCommand {
        @Option(names = "--id", required = true, paramLabel = "ID", description = "The entry to delete.")
        String id;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.delete(entryPath(id));
            print(answer.json(), ignored -> out.println("deleted entry " + id));
            return 0;
        }
    }
}
