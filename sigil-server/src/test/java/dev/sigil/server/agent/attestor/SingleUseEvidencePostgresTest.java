package dev.sigil.server.agent.attestor;

import dev.sigil.server.datastore.DatastoreConfig;

class SingleUseEvidencePostgresTest extends SingleUseEvidenceContract {
    @Override
    protected DatastoreConfig newDatabase() {
        return freshPostgresDatabase();
    }
}
