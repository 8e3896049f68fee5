package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sigil task create|end|list|show}: tasks, the declared units of work credentials are granted under. */
@Command(name = "task", description = "Creates, ends, lists and shows tasks (units of work that bound token exchanges).",
        subcommands = {TaskCommand.Create.class, TaskCommand.End.class, TaskCommand.ListTasks.class, TaskCommand.Show.class})
final class TaskCommand extends GroupCommand {

    /** The request body of POST /v1/tasks; TTL in seconds. */
    record TaskBody(String owner, SpiffeId holder, String purpose, List<String> allowed, long ttl) {
    }

    static String taskPath(String id) {
        return "/v1/tasks/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static void task(PrintWriter out, JsonNode task) {
        Output.field(out, "Task ID", task.path("id").asText());
        Output.field(out, "State", task.path("state").asText());
        Output.field(out, "Owner", task.path("owner").asText());
        Output.field(out, "Holder", task.path("holder").asText());
        Output.field(out, "Purpose", task.path("purpose").asText());
        for (JsonNode allowed : task.path("allowed")) {
            Output.field(out, "Allowed", allowed.asText());
        }
        Output.field(out, "Created at", task.path("created_at").asText());
        Output.field(out, "Expires at", task.path("expires_at").asText());
        if (task.hasNonNull("ended_at")) {
            Output.field(out, "Ended at", task.path("ended_at").asText());
        }
    }

    @Command(name = "create", description = "Creates a task (POST /v1/tasks).")
    static final class Create extends ClientCommand {
        @Option(names = "--owner", required = true, paramLabel = "OWNER", description = "The team or person accountable for the task.")
        String owner;

        @Option(names = "--holder", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The SPIFFE ID of the workload that may request credentials under the task.")
        SpiffeId holder;

        @Option(names = "--purpose", required = true, paramLabel = "TEXT", description = "Why the task exists.")
        String purpose;

        @Option(names = "--allow", required = true, paramLabel = "ACTION:RESOURCE",
                description = "An action allowed on a resource, e.g. read:https://api.example.com (repeatable).")
        List<String> allowed;

        @Option(names = "--ttl", required = true, paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "How long the task lasts, e.g. 30m.")
        Duration ttl;

        Create(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.post("/v1/tasks", new TaskBody(owner, holder, purpose, allowed, ttl.toSeconds()));
            print(answer.json(), task -> task(out, task));
            return 0;
        }
    }

    @Command(name = "end", description = "Ends a task and revokes every token issued under it (POST /v1/tasks/{id}/end).")
    static final class End extends ClientCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The task to end.")
        String id;

        End(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            AdminClient.Answer answer = client.post(taskPath(id) + "/end", Map.of());
            print(answer.json(), task -> task(out, task));
            return 0;
        }
    }

    @Command(name = "show", description = "Shows one task (GET /v1/tasks/{id}).")
    static final class Show extends ClientCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The task to show.")
        String id;

        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get(taskPath(id)).json(), task -> task(out, task));
            return 0;
        }
    }

    @Command(name = "list", description = "Lists tasks, newest first (GET /v1/tasks).")
    static final class ListTasks extends ClientCommand {
        ListTasks(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            print(client.get("/v1/tasks").json(), json -> {
                JsonNode tasks = json.path("tasks");
                if (tasks.isEmpty()) {
                    out.println("no tasks");
                }
                boolean first = true;
                for (JsonNode task : tasks) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    task(out, task);
                }
            });
            return 0;
        }
    }
}
