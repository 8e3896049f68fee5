package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class EntryStorePostgresTest extends EntryStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
