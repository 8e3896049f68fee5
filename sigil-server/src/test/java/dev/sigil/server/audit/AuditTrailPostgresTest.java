package dev.sigil.server.audit;

import dev.sigil.server.datastore.DatastoreConfig;

class AuditTrailPostgresTest extends AuditTrailContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
