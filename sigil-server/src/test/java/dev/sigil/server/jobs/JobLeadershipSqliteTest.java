package dev.sigil.server.jobs;

import dev.sigil.server.datastore.DatastoreConfig;

class JobLeadershipSqliteTest extends JobLeadershipContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
