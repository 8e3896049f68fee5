package dev.sigil.server.token;

import dev.sigil.server.datastore.DatastoreConfig;

class IssuedTokensSqliteTest extends IssuedTokensContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
