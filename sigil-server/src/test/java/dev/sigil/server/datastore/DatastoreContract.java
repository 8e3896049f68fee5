package dev.sigil.server.datastore;

import dev.sigil.testkit.MutableClock;
import dev.sigil.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the contract suites that every datastore dialect must pass. A concrete subclass only says
 * where a fresh, empty database comes from; each test gets its own. {@link #openDatastore()} opens
 * another server's view of the same database (a second connection pool), for tests of what two
 * servers sharing one database may do.
 */
public abstract class DatastoreContract {
    @TempDir
    protected Path tmp;
    protected final MutableClock clock = MutableClock.atEpochOfTests();
    protected DatastoreConfig config;
    protected Datastore datastore;
    private final List<Datastore> opened = new ArrayList<>();

    /** A fresh, empty database; called once per test. */
    protected abstract DatastoreConfig newDatabase();

    protected static DatastoreConfig sqliteIn(Path dir) {
        return DatastoreConfig.sqlite(dir.resolve("sigil.db"));
    }

    protected static DatastoreConfig freshPostgresDatabase() {
        PostgresServer.Database database = PostgresServer.shared().createDatabase();
        return DatastoreConfig.postgresql(database.jdbcUrl(), database.user(), database.password()).withMaxPoolSize(4);
    }

    @BeforeEach
    final void openDatabase() {
        config = newDatabase();
        datastore = openDatastore();
    }

    @AfterEach
    final void closeDatastores() {
        opened.forEach(Datastore::close);
    }

    /** Another pool on the same database, as a second server would have; closed after the test. */
    protected final Datastore openDatastore() {
        Datastore another = Datastore.open(config);
        opened.add(another);
        return another;
    }

    /** A single number from SQL, for checks the public API does not offer. */
    protected final long count(String sql) {
        return datastore.read(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(sql);
                    ResultSet row = statement.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        });
    }

    /** Runs data-changing SQL directly, as someone with database access could. */
    protected final void tamper(String... statements) {
        datastore.inTransaction(connection -> {
            for (String sql : statements) {
                try (PreparedStatement statement = connection.prepareStatement(sql)) {
                    statement.executeUpdate();
                }
            }
            return null;
        });
    }
}
