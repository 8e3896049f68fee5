package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.bundle.BundleFormatException;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil federation ...}: the trust domains this one federates with (docs/federation.md), through
 * the admin API's {@code /v1/federation} routes.
 */
@Command(name = "federation", description = "Creates, lists, shows, updates and deletes federation relationships with other "
        + "trust domains.",
        subcommands = {FederationCommand.Create.class, FederationCommand.ListRelationships.class, FederationCommand.Show.class,
            FederationCommand.Update.class, FederationCommand.Delete.class})
final class FederationCommand extends GroupCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    static void relationship(PrintWriter out, JsonNode relationship) {
        Output.field(out, "Trust domain", relationship.path("trust_domain").asText());
        Output.field(out, "Endpoint URL", relationship.path("bundle_endpoint_url").asText());
        Output.field(out, "Profile", relationship.path("bundle_endpoint_profile").asText());
        if (relationship.has("endpoint_spiffe_id")) {
            Output.field(out, "Endpoint ID", relationship.path("endpoint_spiffe_id").asText());
        }
        Output.field(out, "State", relationship.path("state").asText());
        Output.field(out, "Bundle sequence", relationship.has("bundle_sequence") ? relationship.path("bundle_sequence").asText() : "none");
        if (relationship.has("bundle_refresh_hint")) {
            Output.field(out, "Refresh hint", relationship.path("bundle_refresh_hint").asText() + "s");
        }
        for (JsonNode authority : relationship.path("x509_authorities")) {
            Output.field(out, "X.509 authority", authority.asText());
        }
        for (JsonNode kid : relationship.path("jwt_key_ids")) {
            Output.field(out, "JWT key id", kid.asText());
        }
        Output.field(out, "Last refresh", relationship.has("last_refresh_at") ? relationship.path("last_refresh_at").asText() : "never");
        if (relationship.has("last_error")) {
            Output.field(out, "Last error", relationship.path("last_error").asText());
        }
        Output.field(out, "Revision", relationship.path("revision").asText());
    }

    /** The options of create and update: where the bundle endpoint is, how it authenticates, and an initial bundle. */
    abstract static class Definition extends ClientCommand {
        @Option(names = "--trust-domain", required = true, paramLabel = "NAME", converter = Converters.TrustDomainConverter.class,
                description = "The trust domain to federate with, e.g. partner.example.")
        TrustDomain trustDomain;

        @Option(names = "--bundle-endpoint-url", required = true, paramLabel = "URL",
                description = "Its bundle endpoint, an https url, e.g. https://spiffe.partner.example/bundle.")
        String url;

        @Option(names = "--bundle-endpoint-profile", required = true, paramLabel = "PROFILE",
                description = "How the endpoint authenticates: https_web (a web pki certificate) or https_spiffe (an svid of its "
                        + "trust domain; needs --endpoint-spiffe-id and, on create, --trust-domain-bundle).")
        String profile;

        @Option(names = "--endpoint-spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "https_spiffe: the SPIFFE ID the endpoint presents, e.g. spiffe://partner.example/sigil/server.")
        SpiffeId endpointSpiffeId;

        @Option(names = "--trust-domain-bundle", paramLabel = "FILE",
                description = "The trust domain's current bundle to start from (how the first https_spiffe fetch is authenticated).")
        Path bundleFile;

        @Option(names = "--trust-domain-bundle-format", paramLabel = "FORMAT", defaultValue = "spiffe",
                description = "Format of --trust-domain-bundle: spiffe (a SPIFFE bundle document, the default) or pem (X.509 authorities).")
        String bundleFormat;

        Definition(CliContext context) {
            super(context);
        }

        Map<String, Object> body() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("trust_domain", trustDomain.name());
            body.put("bundle_endpoint_url", url);
            body.put("bundle_endpoint_profile", profile);
            if (endpointSpiffeId != null) {
                body.put("endpoint_spiffe_id", endpointSpiffeId.toString());
            }
            bundle().ifPresent(bundle -> body.put("trust_domain_bundle", bundle));
            return body;
        }

        private Optional<JsonNode> bundle() {
            if (bundleFile == null) {
                return Optional.empty();
            }
            String text;
            try {
                text = Files.readString(bundleFile);
            } catch (IOException e) {
                throw new CliException("cannot read --trust-domain-bundle " + bundleFile + ": " + IoProblems.describe(e));
            }
            try {
                SpiffeBundle bundle = switch (bundleFormat) {
                    case "spiffe" -> SpiffeBundle.parse(trustDomain, text);
                    case "pem" -> new SpiffeBundle(trustDomain, Pem.parseCertificates(text, "--trust-domain-bundle " + bundleFile),
                            List.of(), 0, Optional.empty());
                    default -> throw usage("--trust-domain-bundle-format " + bundleFormat + " is not known; use spiffe or pem");
                };
                return Optional.of(JSON.readTree(bundle.toJson()));
            } catch (BundleFormatException | IllegalArgumentException e) {
                throw new CliException("--trust-domain-bundle " + bundleFile + " is not a valid " + bundleFormat + " bundle: " + e.getMessage());
            } catch (IOException e) {
                throw new CliException("cannot encode the bundle of " + bundleFile + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "create", description = "Federates with a trust domain: its bundle is fetched from its endpoint and kept fresh "
            + "(POST /v1/federation).")
    static final class Create extends Definition {
        Create(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.post("/v1/federation", body()).json(), json -> relationship(out, json));
            return 0;
        }
    }

    @Command(name = "update", description = "Changes a relationship's endpoint, profile or bundle (PUT /v1/federation/<trust domain>).")
    static final class Update extends Definition {
        @Option(names = "--revision", paramLabel = "N", description = "Only if the relationship is still at this revision.")
        Long revision;

        Update(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, Object> body = body();
            if (revision != null) {
                body.put("revision", revision);
            }
            print(client.put("/v1/federation/" + path(trustDomain), body).json(), json -> relationship(out, json));
            return 0;
        }
    }

    @Command(name = "list", description = "Lists the federation relationships (GET /v1/federation).")
    static final class ListRelationships extends ClientCommand {
        ListRelationships(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/federation").json(), json -> {
                JsonNode relationships = json.path("relationships");
                if (relationships.isEmpty()) {
                    out.println("no federation relationships");
                }
                boolean first = true;
                for (JsonNode relationship : relationships) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    relationship(out, relationship);
                }
            });
            return 0;
        }
    }

    @Command(name = "show", description = "Shows one relationship with its bundle and refresh state (GET /v1/federation/<trust domain>).")
    static final class Show extends ClientCommand {
        @Option(names = "--trust-domain", required = true, paramLabel = "NAME", converter = Converters.TrustDomainConverter.class,
                description = "The federated trust domain.")
        TrustDomain trustDomain;

        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/federation/" + path(trustDomain)).json(), json -> relationship(out, json));
            return 0;
        }
    }

    @Command(name = "delete", description = "Stops federating with a trust domain; its bundle is withdrawn from agents "
            + "(DELETE /v1/federation/<trust domain>).")
    static final class Delete extends ClientCommand {
        @Option(names = "--trust-domain", required = true, paramLabel = "NAME", converter = Converters.TrustDomainConverter.class,
                description = "The federated trust domain.")
        TrustDomain trustDomain;

        @Option(names = "--revision", paramLabel = "N", description = "Only if the relationship is still at this revision.")
        Long revision;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            client.delete("/v1/federation/" + path(trustDomain) + (revision == null ? "" : "?revision=" + revision));
            if (options.output() == OutputFormat.json) {
                Output.json(out, JSON.createObjectNode().put("deleted", trustDomain.name()));
            } else {
                out.println("deleted federation relationship with " + trustDomain);
            }
            return 0;
        }
    }

    private static String path(TrustDomain trustDomain) {
        return URLEncoder.encode(trustDomain.name(), StandardCharsets.UTF_8);
    }
}
