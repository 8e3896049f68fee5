package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class EntryStoreListingPostgresTest extends EntryStoreListingContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
