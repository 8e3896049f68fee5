package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.datastore.DatastoreConfig;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class LeaseStorePostgresTest extends LeaseStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }

    /**
     * The prefix look-up's range (SqlLeaseStore) is one PostgreSQL can read from an index in the C collation
     * (V29), whatever the database's collation; the index on the first four characters it replaced is gone.
     */
    @Test
    void anIdPrefixIsARangeOfAnIndexInTheCCollation() {
        String plan = datastore.read(connection -> {
            try (Statement settings = connection.createStatement()) {
                settings.execute("SET enable_seqscan = off");
            }
            try (PreparedStatement explain = connection.prepareStatement(
                    "EXPLAIN SELECT * FROM leases WHERE id COLLATE \"C\" >= ? AND id COLLATE \"C\" < ?")) {
                explain.setString(1, "abcd");
                explain.setString(2, "abcd{");
                StringBuilder text = new StringBuilder();
                try (ResultSet rows = explain.executeQuery()) {
                    while (rows.next()) {
                        text.append(rows.getString(1)).append('\n');
                    }
                }
                return text.toString();
            } finally {
                try (Statement settings = connection.createStatement()) {
                    settings.execute("RESET enable_seqscan");
                }
            }
        });
        assertThat(plan).contains("leases_id_c").contains("Index Cond");
        assertThat(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'leases_id_prefix'")).isZero();
    }
}
