package dev.sigil.server.authority;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import java.nio.file.Path;

/** The real datastore on a temporary SQLite file. */
final class TestStores {
    private TestStores() {}

    static Datastore sqlite(Path directory) {
        return Datastore.open(DatastoreConfig.sqlite(directory.resolve("sigil.db")));
    }
}
