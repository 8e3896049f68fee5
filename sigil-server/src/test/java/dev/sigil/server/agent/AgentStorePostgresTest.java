package dev.sigil.server.agent;

import dev.sigil.server.datastore.DatastoreConfig;

class AgentStorePostgresTest extends AgentStoreContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
