package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sigil lease list|show|renew|revoke}: leases over brokered credentials, for operators. */
@Command(name = "lease", description = "Lists, shows, renews and revokes credential leases.",
        subcommands = {LeaseCommand.ListLeases.class, LeaseCommand.Show.class, LeaseCommand.Renew.class, LeaseCommand.Revoke.class})
final class LeaseCommand extends GroupCommand {

    /** The selection options shared by list and revoke; every given one must match. */
    static final class Selection {
        @Option(names = "--holder", paramLabel = "ID", description = "The holder's SPIFFE ID.")
        String holder;

        @Option(names = "--task", paramLabel = "TASK", description = "The task the leases were granted under.")
        String task;

        @Option(names = "--agent", paramLabel = "ID", description = "The SPIFFE ID of the agent the holder runs under.")
        String agent;

        @Option(names = "--broker", paramLabel = "BROKER", description = "The broker (postgresql, ssh, token, ...).")
        String broker;

        @Option(names = "--prefix", paramLabel = "P", description = "A lease id prefix (at least 4 characters).")
        String prefix;

        Map<String, String> asMap() {
            Map<String, String> values = new LinkedHashMap<>();
            put(values, "holder", holder);
            put(values, "task", task);
            put(values, "agent", agent);
            put(values, "broker", broker);
            put(values, "prefix", prefix);
            return values;
        }

        private static void put(Map<String, String> values, String key, String value) {
            if (value != null) {
                values.put(key, value);
            }
        }
    }

    /** Length of a full lease id (24 characters of base32). */
    static final int ID_LENGTH = 24;
    static final int MIN_PREFIX = 4;

    /**
     * The path of the lease {@code id} names: a full id, or a prefix of at least {@value #MIN_PREFIX}
     * characters that exactly one lease starts with (as the docs allow for ids).
     */
    static String leasePath(AdminClient client, String id) {
        String path = leasePath(id);
        if (id.length() >= ID_LENGTH) {
            return path;
        }
        if (id.length() < MIN_PREFIX) {
            throw new CliException("lease id prefix '" + id + "' is too short; give at least " + MIN_PREFIX + " characters or the full id");
        }
        JsonNode found = client.get("/v1/leases", Map.of("prefix", List.of(id), "limit", List.of("2"))).json().path("leases");
        if (found.isEmpty()) {
            throw new CliException("no lease id starts with '" + id + "'");
        }
        if (found.size() > 1) {
            throw new CliException("lease id prefix '" + id + "' is ambiguous: " + found.get(0).path("id").asText() + ", "
                    + found.get(1).path("id").asText() + (found.size() > 2 ? ", ..." : "") + "; give more characters");
        }
        return leasePath(found.get(0).path("id").asText());
    }

    static String leasePath(String id) {
        if (!id.matches("[a-z2-7]{1,64}")) {
            throw new CliException("lease id '" + id + "' is malformed; lease ids are lower-case letters and digits 2-7");
        }
        return "/v1/leases/" + id;
    }

    static void lease(PrintWriter out, JsonNode lease) {
        Output.field(out, "Lease ID", lease.path("id").asText());
        Output.field(out, "State", lease.path("state").asText());
        Output.field(out, "Broker", lease.path("broker").asText());
        Output.field(out, "Resource", lease.path("resource").asText());
        Output.field(out, "Holder", lease.path("holder").asText());
        if (lease.hasNonNull("task")) {
            Output.field(out, "Task", lease.path("task").asText());
        }
        if (lease.hasNonNull("agent")) {
            Output.field(out, "Agent", lease.path("agent").asText());
        }
        Output.field(out, "Issued at", lease.path("issued_at").asText());
        Output.field(out, "Expires at", lease.path("expires_at").asText());
        Output.field(out, "Max expires at", lease.path("max_expires_at").asText());
        lease.path("details").fields().forEachRemaining(e -> Output.field(out, "Detail " + e.getKey(), e.getValue().asText()));
        JsonNode revocation = lease.path("revocation");
        if (revocation.isObject()) {
            Output.field(out, "Revocation", revocation.path("reason").asText() + " (requested " + revocation.path("requested_at").asText() + ")");
            if (revocation.path("attempts").asInt() > 0) {
                Output.field(out, "Failed attempts", revocation.path("attempts").asText());
                Output.field(out, "Last error", revocation.path("last_error").asText());
                Output.field(out, "Next attempt at", revocation.path("next_attempt_at").asText());
            }
            if (revocation.hasNonNull("revoked_at")) {
                Output.field(out, "Revoked at", revocation.path("revoked_at").asText());
            }
        }
    }

    @Command(name = "list", description = "Lists leases, newest first (GET /v1/leases).")
    static final class ListLeases extends ClientCommand {
        @picocli.CommandLine.ArgGroup(exclusive = false)
        Selection selection = new Selection();

        @Option(names = "--state", paramLabel = "STATE", description = "pending, active, revoking or revoked.")
        String state;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many (default 100).")
        int limit;

        ListLeases(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, List<String>> query = new LinkedHashMap<>();
            selection.asMap().forEach((k, v) -> query.put(k, List.of(v)));
            if (state != null) {
                query.put("state", List.of(state));
            }
            query.put("limit", List.of(Integer.toString(limit)));
            print(client.get("/v1/leases", query).json(), json -> {
                JsonNode leases = json.path("leases");
                if (leases.isEmpty()) {
                    out.println("no leases");
                }
                boolean first = true;
                for (JsonNode lease : leases) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    lease(out, lease);
                }
            });
            return 0;
        }
    }

    @Command(name = "show", description = "Shows one lease (GET /v1/leases/{id}).")
    static final class Show extends ClientCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The lease to show: its id, or a prefix of at least 4 characters.")
        String id;

        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get(leasePath(client, id)).json(), lease -> lease(out, lease));
            return 0;
        }
    }

    @Command(name = "renew", description = "Extends an active lease, never past its maximum (POST /v1/leases/{id}/renew).")
    static final class Renew extends ClientCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The lease to renew: its id, or a prefix of at least 4 characters.")
        String id;

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "New lifetime from now (default: the broker's default TTL).")
        Duration ttl;

        Renew(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, Object> body = ttl == null ? Map.of() : Map.of("ttl", ttl.toSeconds() + "s");
            JsonNode renewed = client.post(leasePath(client, id) + "/renew", body).json();
            TtlCap.warnIfCapped(context.err(), "lease", ttl, renewed.get("expires_at"));
            print(renewed, lease -> lease(out, lease));
            return 0;
        }
    }

    @Command(name = "revoke", description = "Revokes one lease by id, or every lease matching the options (POST /v1/leases/revoke).")
    static final class Revoke extends ClientCommand {
        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The lease to revoke.")
        String id;

        @picocli.CommandLine.ArgGroup(exclusive = false)
        Selection selection = new Selection();

        Revoke(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            Map<String, String> body = new LinkedHashMap<>(selection.asMap());
            if (id != null) {
                body.put("id", id);
            }
            if (body.isEmpty()) {
                throw usage("name the leases to revoke: an ID, or --holder, --task, --agent, --broker or --prefix");
            }
            print(client.post("/v1/leases/revoke", body).json(), json -> {
                out.println("revoked " + json.path("revoked").asInt() + " of " + json.path("requested").asInt() + " lease(s)");
                int deferred = json.path("deferred").asInt();
                int refused = json.path("still_revoking").asInt() - deferred;
                if (refused > 0) {
                    out.println(refused + " still revoking: the backend refused; retried in the background"
                            + " (see sigil lease list --state revoking)");
                }
                if (deferred > 0) {
                    out.println(deferred + " still revoking: not attempted within the request's time; revoked in the background"
                            + " (see sigil lease list --state revoking)");
                }
            });
            return 0;
        }
    }
}
