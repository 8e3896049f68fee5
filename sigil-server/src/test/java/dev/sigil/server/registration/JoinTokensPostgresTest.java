package dev.sigil.server.registration;

import dev.sigil.server.datastore.DatastoreConfig;

class JoinTokensPostgresTest extends JoinTokensContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
