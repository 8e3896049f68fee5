package dev.sigil.server.policy;

import dev.sigil.server.datastore.DatastoreConfig;

class PolicyStorePostgresTest extends PolicyStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
