package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class EntryStoreSqliteTest extends EntryStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
