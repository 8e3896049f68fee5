package dev.sigil.server.task;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Admin API for tasks: {@code POST /v1/tasks}, {@code GET /v1/tasks}, {@code GET /v1/tasks/{id}},
 * {@code POST /v1/tasks/{id}/end}. Changes are attributed to the caller ({@link AdminRequest#actor()}).
 */
public final class TaskRoutes {
    private final TaskStore tasks;
    private final Clock clock;

    public TaskRoutes(TaskStore tasks, Clock clock) {
        this.tasks = tasks;
        this.clock = clock;
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/tasks", this::create)
                .get("/v1/tasks", request -> Reply.ok(new TaskListJson(tasks.list(request.queryInt("limit", 1, 1000).orElse(100))
                        .stream().map(this::json).toList())))
                .get("/v1/tasks/{id}", request -> Reply.ok(json(find(request.pathParameter("id")))))
                .post("/v1/tasks/{id}/end", this::end)
                .build();
    }

    /** @param ttl lifetime in seconds */
    record TaskRequest(String owner, SpiffeId holder, String purpose, List<String> allowed, Long ttl) {
    }

    record TaskJson(String id, String owner, SpiffeId holder, String purpose, List<String> allowed, String state,
                    Instant createdAt, Instant expiresAt, Optional<Instant> endedAt) {
    }

    record TaskListJson(List<TaskJson> tasks) {
    }

    private Reply create(AdminRequest request) {
        TaskRequest body = request.body(TaskRequest.class);
        if (body.holder() == null || body.allowed() == null || body.ttl() == null) {
            throw ApiException.invalidArgument("a task needs owner, holder, purpose, allowed (ACTION:RESOURCE strings) and ttl (seconds)");
        }
        try {
            List<Task.Permission> allowed = body.allowed().stream().map(Task.Permission::parse).toList();
            Task task = tasks.create(body.owner(), body.holder(), body.purpose(), allowed, Duration.ofSeconds(body.ttl()),
                    request.actor().describe());
            return Reply.created(json(task));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
    }

    private Reply end(AdminRequest request) {
        try {
            return Reply.ok(json(tasks.end(request.pathParameter("id"), request.actor().describe())));
        } catch (TaskException e) {
            throw e.notFound() ? ApiException.notFound(e.getMessage()) : ApiException.invalidArgument(e.getMessage());
        }
    }

    private Task find(String id) {
        return tasks.find(id).orElseThrow(() -> ApiException.notFound("no task has id '" + id + "'"));
    }

    private TaskJson json(Task task) {
        return new TaskJson(task.id(), task.owner(), task.holder(), task.purpose(),
                task.allowed().stream().map(Task.Permission::toString).toList(), task.state(clock.instant()).wireName(),
                task.createdAt(), task.expiresAt(), task.endedAt());
    }
}
