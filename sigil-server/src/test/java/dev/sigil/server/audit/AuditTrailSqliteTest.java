package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.datastore.DatastoreConfig;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

class AuditTrailSqliteTest extends AuditTrailContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }

    @Test
    void taskAndResourceFiltersUseAnIndexNotAScan() {
        for (String key : new String[] {"task", "resource", "token_hmac"}) {
            String plan = datastore.read(connection -> {
                try (PreparedStatement explain = connection.prepareStatement(
                        "EXPLAIN QUERY PLAN SELECT seq FROM audit_records WHERE json_extract(details, '$." + key + "') = ?")) {
                    explain.setString(1, "x");
                    StringBuilder text = new StringBuilder();
                    try (ResultSet rows = explain.executeQuery()) {
                        while (rows.next()) {
                            text.append(rows.getString("detail")).append('\n');
                        }
                    }
                    return text.toString();
                }
            });
            assertThat(plan).contains("audit_records_" + key);
        }
    }
}
