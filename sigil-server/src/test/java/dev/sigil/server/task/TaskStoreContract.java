package dev.sigil.server.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.token.IssuedTokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the task store guarantees on every datastore dialect. */
abstract class TaskStoreContract extends DatastoreContract {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://example.org/ai-agent");
    private final List<String> ended = new ArrayList<>();
    private AuditTrail audit;
    private TaskStore tasks;

    @BeforeEach
    void createStore() {
        audit = AuditTrail.create(datastore, clock);
        IssuedTokens issued = new IssuedTokens(datastore);
        tasks = TaskStore.create(datastore, audit, clock, (connection, id, at) -> {
            issued.revokeForTask(connection, id, at);
            ended.add(id);
        });
    }

    @Test
    void taskIsActiveUntilItExpiresAndIsAudited() {
        Task task = tasks.create("team-ai", HOLDER, "triage", List.of(Task.Permission.parse("read:https://api.example.com")),
                Duration.ofMinutes(10), "alice");

        assertThat(tasks.find(task.id())).contains(task);
        assertThat(task.state(clock.instant())).isEqualTo(Task.State.ACTIVE);
        assertThat(task.allows("read", "https://api.example.com")).isTrue();
        assertThat(task.allows("write", "https://api.example.com")).isFalse();
        clock.advance(Duration.ofMinutes(10));
        assertThat(tasks.find(task.id()).orElseThrow().state(clock.instant())).isEqualTo(Task.State.EXPIRED);
        assertThat(tasks.list(10)).extracting(Task::id).containsExactly(task.id());
        assertThat(audit.query(AuditQuery.all())).anySatisfy(record -> assertThat(record.action()).isEqualTo("task.create"));
    }

    @Test
    void endingATaskRunsTheListenerOnceAndCannotBeRepeated() {
        Task task = tasks.create("team-ai", HOLDER, "triage", List.of(Task.Permission.parse("read:https://api.example.com")),
                Duration.ofMinutes(10), "alice");

        assertThat(tasks.end(task.id(), "bob").state(clock.instant())).isEqualTo(Task.State.ENDED);
        assertThat(ended).containsExactly(task.id());
        assertThatThrownBy(() -> tasks.end(task.id(), "bob")).isInstanceOf(TaskException.class).hasMessageContaining("ended");
        assertThatThrownBy(() -> tasks.end("task-missing", "bob")).isInstanceOf(TaskException.class).hasMessageContaining("no task");
    }

    @Test
    void invalidTasksAreRefused() {
        assertThatThrownBy(() -> Task.Permission.parse("no-colon")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ACTION:RESOURCE");
        assertThatThrownBy(() -> tasks.create("team-ai", HOLDER, "triage", List.of(), Duration.ofMinutes(1), "alice"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tasks.create("team-ai", HOLDER, "triage", List.of(Task.Permission.parse("read:x")),
                Duration.ofDays(31), "alice")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl");
    }
}
