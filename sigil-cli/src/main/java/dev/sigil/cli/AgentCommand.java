package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil agent ...}: the node agents. The operator subcommands here (list, show, ban, evict)
 * talk to the admin API; {@code api} talks to a local agent's Workload API; more subcommands (running the agent itself) join this group through
 * {@code subcommands} below.
 */
@Command(name = "agent", description = "Runs the agent; lists, shows, bans and evicts attested agents; calls the local "
        + "agent's Workload API.",
        subcommands = {AgentRunCommand.class, AgentCommand.ListAgents.class, AgentCommand.Show.class, AgentCommand.Ban.class,
            AgentCommand.Evict.class, AgentApiCommand.class, AgentHealthcheckCommand.class})
final class AgentCommand extends GroupCommand {

    /** The request body of POST /v1/agents/ban and /v1/agents/evict. */
    record AgentRef(SpiffeId spiffeId) {
    }

    static void agent(PrintWriter out, JsonNode agent) {
        Output.field(out, "SPIFFE ID", agent.path("spiffe_id").asText());
        Output.field(out, "Attestor", agent.path("attestor_type").asText());
        if (agent.hasNonNull("evidence")) {
            Output.field(out, "Evidence", agent.path("evidence").asText());
        }
        Output.field(out, "Trust level", agent.hasNonNull("trust_meaning") ? agent.path("trust_meaning").asText()
                : agent.path("trust_level").asText());
        if (agent.hasNonNull("last_quote_at")) {
            Output.field(out, "Last quote", agent.path("last_quote_at").asText());
        }
        for (JsonNode selector : agent.path("selectors")) {
            Output.field(out, "Selector", selector.isObject()
                    ? selector.path("type").asText() + ":" + selector.path("value").asText() : selector.asText());
        }
        Output.field(out, "SVID serial", agent.path("svid_serial").asText());
        Output.field(out, "SVID expires at", agent.path("svid_expires_at").asText());
        Output.field(out, "First attested", agent.path("first_attested_at").asText());
        Output.field(out, "Last attested", agent.path("last_attested_at").asText());
        Output.field(out, "Banned", agent.path("banned").asText());
    }

    abstract static class OneAgent extends ClientCommand {
        @Option(names = "--spiffe-id", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The agent's SPIFFE ID, e.g. spiffe://example.org/sigil/agent/join_token/<token id>.")
        SpiffeId spiffeId;

        OneAgent(CliContext context) {
            super(context);
        }
    }

    @Command(name = "list", description = "Lists the registered agents (GET /v1/agents).")
    static final class ListAgents extends ClientCommand {
        ListAgents(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/agents").json(), json -> {
                JsonNode agents = json.path("agents");
                if (agents.isEmpty()) {
                    out.println("no agents");
                }
                boolean first = true;
                for (JsonNode agent : agents) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    agent(out, agent);
                }
            });
            return 0;
        }
    }

    @Command(name = "show", description = "Shows one agent (GET /v1/agents/show?spiffe_id=...).")
    static final class Show extends OneAgent {
        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/agents/show", Map.of("spiffe_id", List.of(spiffeId.toString()))).json(), agent -> agent(out, agent));
            return 0;
        }
    }

    @Command(name = "ban", description = "Bans an agent: refused at its next call and cannot attest again until evicted (POST /v1/agents/ban).")
    static final class Ban extends OneAgent {
        Ban(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.post("/v1/agents/ban", new AgentRef(spiffeId)).json(), ignored -> out.println("banned agent " + spiffeId));
            return 0;
        }
    }

    @Command(name = "evict", description = "Evicts an agent: deletes it (and a ban); the node must attest again (POST /v1/agents/evict).")
    static final class Evict extends OneAgent {
        Evict(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.post("/v1/agents/evict", new AgentRef(spiffeId)).json(), ignored -> out.println("evicted agent " + spiffeId));
            return 0;
        }
    }
}
