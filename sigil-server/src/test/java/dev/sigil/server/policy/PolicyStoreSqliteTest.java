package dev.sigil.server.policy;

import dev.sigil.server.datastore.DatastoreConfig;

class PolicyStoreSqliteTest extends PolicyStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
