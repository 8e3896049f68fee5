package dev.sigil.server.audit;

import dev.sigil.server.datastore.DatastoreConfig;

class AuditCheckpointsPostgresTest extends AuditCheckpointsContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
