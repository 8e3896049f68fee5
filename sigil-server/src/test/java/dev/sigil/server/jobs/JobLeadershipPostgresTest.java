package dev.sigil.server.jobs;

import dev.sigil.server.datastore.DatastoreConfig;

class JobLeadershipPostgresTest extends JobLeadershipContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
