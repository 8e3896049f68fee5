package dev.sigil.server.credential;

import dev.sigil.server.datastore.DatastoreConfig;

class LeaseStoreSqliteTest extends LeaseStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
