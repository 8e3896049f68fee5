package dev.sigil.server.task;

import dev.sigil.server.datastore.DatastoreConfig;

class TaskStoreSqliteTest extends TaskStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
