package dev.sigil.server.credential;

import dev.sigil.server.datastore.DatastoreConfig;

class LeaseStorePostgresTest extends LeaseStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
