package dev.sigil.server.audit;

import dev.sigil.server.datastore.DatastoreConfig;

class AuditCheckpointsSqliteTest extends AuditCheckpointsContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
