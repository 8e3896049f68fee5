package dev.sigil.server.token;

import dev.sigil.server.datastore.DatastoreConfig;

class IssuedTokensPostgresTest extends IssuedTokensContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
