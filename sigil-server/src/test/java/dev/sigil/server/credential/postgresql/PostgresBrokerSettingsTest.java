package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostgresBrokerSettingsTest {
    private static final String URL = "jdbc:postgresql://db.internal:5432/app?sslmode=verify-full";
    private static final Map<String, PostgresBrokerSettings.Resource> RESOURCES =
            Map.of("app-readonly", new PostgresBrokerSettings.Resource(List.of("app_read"), 5));

    @Test
    void validSettingsKnowTheirDatabaseAndRedactThePassword() {
        PostgresBrokerSettings settings = new PostgresBrokerSettings(URL, "sigil_broker", "hunter2-secret", "sigil_", RESOURCES);

        assertThat(settings.database()).isEqualTo("app");
        assertThat(settings.toString()).doesNotContain("hunter2-secret").contains("<redacted>").contains("sigil_broker");
    }

    @Test
    void aUrlThatIsNotPostgresqlJdbcIsRefused() {
        assertThatThrownBy(() -> new PostgresBrokerSettings("postgres://db/app", "a", "p", "sigil_", RESOURCES))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'postgres://db/app'");
    }

    @Test
    void aUrlCarryingCredentialsIsRefused() {
        assertThatThrownBy(() -> new PostgresBrokerSettings(URL + "&password=x", "a", "p", "sigil_", RESOURCES))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'password'");
    }

    @Test
    void badPrefixesAreRefused() {
        for (String prefix : List.of("", "Sigil_", "9lives", "sigil-", "a_much_too_long_prefix_")) {
            assertThatThrownBy(() -> new PostgresBrokerSettings(URL, "a", "p", prefix, RESOURCES))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + prefix + "'");
        }
    }

    @Test
    void roleNamesThatAreNotPlainIdentifiersAreRefused() {
        for (String role : List.of("", "app read", "app\"; DROP ROLE x; --", "1app", "x".repeat(64))) {
            assertThatThrownBy(() -> new PostgresBrokerSettings.Resource(List.of(role), 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("member_of");
            assertThatThrownBy(() -> new PostgresBrokerSettings(URL, role, "p", "sigil_", RESOURCES))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("admin_user");
        }
    }

    @Test
    void aGroupRoleThatLooksLikeALeaseRoleIsRefused() {
        String leaseLike = RoleName.of("sigil_", SpiffeId.parse("spiffe://x.test/a"), LeaseId.random()).value();
        assertThatThrownBy(() -> new PostgresBrokerSettings(URL, "a", "p", "sigil_",
                Map.of("r", new PostgresBrokerSettings.Resource(List.of(leaseLike), 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(leaseLike);
    }

    @Test
    void emptyPasswordNoResourcesAndZeroConnectionsAreRefused() {
        assertThatThrownBy(() -> new PostgresBrokerSettings(URL, "a", "", "sigil_", RESOURCES))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password");
        assertThatThrownBy(() -> new PostgresBrokerSettings(URL, "a", "p", "sigil_", Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("resources");
        assertThatThrownBy(() -> new PostgresBrokerSettings.Resource(List.of("r"), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("connection_limit 0");
    }

    @Test
    void poolSizeDefaultsToEightAndMustBeOneToSixtyFour() {
        assertThat(new PostgresBrokerSettings(URL, "a", "p", "sigil_", RESOURCES).poolSize()).isEqualTo(8);
        assertThat(new PostgresBrokerSettings(URL, "a", "p", "sigil_", RESOURCES, 64).poolSize()).isEqualTo(64);
        for (int size : new int[] {0, 65}) {
            assertThatThrownBy(() -> new PostgresBrokerSettings(URL, "a", "p", "sigil_", RESOURCES, size))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool_size " + size).hasMessageContaining("1 to 64");
        }
    }
}
