package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgrading to authorities per server: the authorities a single server created before (no owner) are
 * adopted by the server whose key manager holds their keys; a server started with other keys on such a
 * journal still refuses to start, rather than put a new root beside the one relying parties trust.
 */
class AuthorityOwnersTest {
    private static final AuthorityConfig CONFIG = AuthorityConfig.defaults(TrustDomain.parse("example.org"));

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.atEpochOfTests();

    @Test
    void theServerHoldingTheKeysAdoptsTheAuthoritiesOfBefore() {
        KeyManager keys = KeyManagers.memory();
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")))) {
            Authority before = Authority.start(CONFIG, datastore, keys, clock, RotationListener.none());
            String bundle = before.bundle().toJson();

            Authority upgraded = Authority.start(CONFIG, "server-1", Duration.ofSeconds(15), datastore, keys, clock, RotationListener.none());

            assertThat(upgraded.journal()).extracting(AuthorityRecord::owner).containsOnly("server-1");
            assertThat(upgraded.bundle().toJson()).as("the same authorities, no new root").isEqualTo(bundle);
        }
    }

    @Test
    void aServerWithOtherKeysOnAJournalOfBeforeRefusesToStart() {
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")))) {
            Authority.start(CONFIG, datastore, KeyManagers.memory(), clock, RotationListener.none());

            assertThatThrownBy(() -> Authority.start(CONFIG, "server-1", Duration.ofSeconds(15), datastore, KeyManagers.memory(), clock,
                    RotationListener.none()))
                    .isInstanceOf(AuthorityException.class).hasMessageContaining("does not have").hasMessageContaining("refusing to start");
            assertThat(datastore.<Long>read(c -> {
                try (var rows = c.createStatement().executeQuery("SELECT COUNT(*) FROM authority_journal WHERE owner <> ''")) {
                    rows.next();
                    return rows.getLong(1);
                }
            })).as("nothing was adopted or created").isZero();
        }
    }
}
