package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class EntryStoreListingSqliteTest extends EntryStoreListingContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
