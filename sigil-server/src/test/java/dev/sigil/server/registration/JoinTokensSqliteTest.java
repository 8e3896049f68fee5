package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class JoinTokensSqliteTest extends JoinTokensContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
