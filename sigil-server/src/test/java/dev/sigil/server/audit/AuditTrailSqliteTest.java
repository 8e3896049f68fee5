package dev.sigil.server.audit;

import dev.sigil.server.datastore.DatastoreConfig;

class AuditTrailSqliteTest extends AuditTrailContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
