package dev.sigil.server.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.testkit.Eventually;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SQLite's WAL is checkpointed in the background, never by a committing request. */
@Timeout(30)
class WalCheckpointerTest {
    private static final int BLOB_BYTES = 2 << 20;

    @TempDir
    Path tmp;

    @Test
    void committedPagesReachTheDatabaseFileWithoutAnotherCommit() throws Exception {
        Path file = tmp.resolve("sigil.db");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            long before = Files.size(file);
            datastore.inTransaction(connection -> {
                try (Statement create = connection.createStatement()) {
                    create.execute("CREATE TABLE wal_probe (payload BLOB NOT NULL)");
                }
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO wal_probe (payload) VALUES (?)")) {
                    insert.setBytes(1, new byte[BLOB_BYTES]);
                    insert.executeUpdate();
                }
                return null;
            });
            // ~500 pages, below SQLite's own auto-checkpoint threshold: only a background checkpoint copies
            // them into the database file while the server is idle.
            Eventually.within(Duration.ofSeconds(10), () -> assertThat(Files.size(file)).isGreaterThan(before + BLOB_BYTES));
            assertThat(Files.size(file.resolveSibling("sigil.db-wal"))).as("wal file").isLessThanOrEqualTo(64L << 20);
        }
    }

    @Test
    void pooledConnectionsNeverCheckpointOnCommit() {
        Path file = tmp.resolve("sigil.db");
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            long autoCheckpoint = datastore.read(connection -> {
                try (Statement statement = connection.createStatement();
                     ResultSet row = statement.executeQuery("PRAGMA wal_autocheckpoint")) {
                    row.next();
                    return row.getLong(1);
                }
            });
            assertThat(autoCheckpoint).as("wal_autocheckpoint of a pooled connection").isZero();
        }
    }
}
