package dev.sigil.server.task;

import dev.sigil.server.datastore.DatastoreConfig;

class TaskStorePostgresTest extends TaskStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
