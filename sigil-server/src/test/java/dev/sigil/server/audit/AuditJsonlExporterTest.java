package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.datastore.DatastoreContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditJsonlExporterTest extends DatastoreContract {
    private final ObjectMapper json = new ObjectMapper();

    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }

    @Test
    void committedRecordsAreCopiedOncePerLineAndAResumedExporterContinuesAfterTheLastLine() throws Exception {
        AuditTrail trail = AuditTrail.create(datastore, clock);
        Path file = tmp.resolve("export").resolve("audit.jsonl");
        trail.append(AuditEvent.success("alice", "entry.create", "entry:1", Map.of("resource", "db:orders")));
        trail.append(AuditEvent.success("bob", "entry.update", "entry:1", Map.of()));

        assertThat(AuditJsonlExporter.create(trail, file).exportNew()).isEqualTo(2);
        trail.append(AuditEvent.success("carol", "entry.delete", "entry:1", Map.of()));
        AuditJsonlExporter resumed = AuditJsonlExporter.create(trail, file);
        assertThat(resumed.exportNew()).isEqualTo(1);
        assertThat(resumed.exportNew()).isZero();

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        JsonNode first = json.readTree(lines.getFirst());
        assertThat(first.path("seq").asLong()).isEqualTo(1);
        assertThat(first.path("actor").asText()).isEqualTo("alice");
        assertThat(first.path("details").path("resource").asText()).isEqualTo("db:orders");
        assertThat(json.readTree(lines.get(2)).path("hash").asText()).isEqualTo(trail.query(AuditQuery.all()).get(2).hash());
    }

    @Test
    void recordsOfARolledBackTransactionAreNeverExported() throws Exception {
        AuditTrail trail = AuditTrail.create(datastore, clock);
        Path file = tmp.resolve("audit.jsonl");
        try {
            datastore.transaction(connection -> {
                trail.append(connection, AuditEvent.success("alice", "entry.create", "entry:1", Map.of()));
                throw new IllegalStateException("the change failed");
            });
        } catch (IllegalStateException expected) {
            // rolled back
        }

        assertThat(AuditJsonlExporter.create(trail, file).exportNew()).isZero();
        assertThat(file).doesNotExist();
    }
}
