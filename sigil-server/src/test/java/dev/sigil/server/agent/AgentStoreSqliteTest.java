package dev.sigil.server.agent;

import dev.sigil.server.datastore.DatastoreConfig;

class AgentStoreSqliteTest extends AgentStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
