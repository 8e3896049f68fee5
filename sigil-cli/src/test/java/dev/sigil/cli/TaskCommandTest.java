package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.task.TaskRoutes;
import dev.sigil.server.task.TaskStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil task create|end|list|show} against the real task routes and store on a temporary SQLite. */
class TaskCommandTest {
    @TempDir
    Path dir;
    private Datastore datastore;
    private AdminServer server;
    private final List<String> ended = new ArrayList<>();

    @BeforeEach
    void start() {
        Clock clock = Clock.systemUTC();
        datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")));
        TaskStore tasks = TaskStore.create(datastore, AuditTrail.create(datastore, clock), clock, (c, id, at) -> ended.add(id));
        server = AdminServer.create(AdminServer.Options.unixSocket(dir.resolve("admin.sock")),
                AdminApi.of(new TaskRoutes(tasks, clock).routes()), clock);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        datastore.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(dir.resolve("admin.sock").toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    @Test
    void taskIsCreatedShownListedAndEnded() {
        CliHarness.Result created = sigil("task", "create", "--owner", "team-ai", "--holder", "spiffe://sigil.test/agent",
                "--purpose", "triage tickets", "--allow", "read:https://api.example.com", "--allow", "write:https://tickets", "--ttl", "30m");
        assertThat(created.err()).isEmpty();
        assertThat(created.exitCode()).isZero();
        assertThat(created.out()).contains("active").contains("read:https://api.example.com").contains("write:https://tickets");
        Matcher id = Pattern.compile("(task-[0-9a-f]+)").matcher(created.out());
        assertThat(id.find()).isTrue();

        assertThat(sigil("task", "show", id.group(1)).out()).contains("triage tickets");
        assertThat(sigil("task", "list").out()).contains(id.group(1));
        CliHarness.Result end = sigil("task", "end", id.group(1));
        assertThat(end.exitCode()).as(end.err()).isZero();
        assertThat(end.out()).contains("ended");
        assertThat(ended).containsExactly(id.group(1));
        assertThat(sigil("task", "end", id.group(1)).exitCode()).isEqualTo(1);
    }

    @Test
    void malformedAllowIsRefused() {
        CliHarness.Result result = sigil("task", "create", "--owner", "o", "--holder", "spiffe://sigil.test/agent",
                "--purpose", "p", "--allow", "nocolon", "--ttl", "5m");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.err()).contains("ACTION:RESOURCE");
    }
}
