package dev.sigil.server.agent.attestor;

import dev.sigil.server.datastore.DatastoreConfig;

class SingleUseEvidenceSqliteTest extends SingleUseEvidenceContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }
}
