package dev.sigil.server.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {
    record Settings(String value) {
    }

    /** A plugin of the brokers kind that is not a broker plugin (only the registry's contract is exercised). */
    static final class Named implements Plugin<Settings> {
        private final String type;

        Named(String type) {
            this.type = type;
        }

        @Override
        public PluginKind kind() {
            return PluginKind.BROKERS;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public Class<Settings> settingsType() {
            return Settings.class;
        }
    }

    interface Special extends Plugin<Settings> {
    }

    @Test
    void twoPluginsOfOneKindWithOneNameAreRefused() {
        assertThatThrownBy(() -> PluginRegistry.of(List.of(new Named("vault"), new Named("vault"))))
                .isInstanceOf(PluginException.class).hasMessageContaining("two broker plugins are named 'vault'");
    }

    @Test
    void aPluginIsFoundByKindAndNameOnlyWhenItHasTheKindsInterface() {
        PluginRegistry registry = PluginRegistry.of(List.of(new Named("vault")));

        assertThat(registry.section("brokers")).containsOnlyKeys("vault");
        assertThat(registry.find(PluginKind.BROKERS, "vault", Named.class)).isPresent();
        assertThat(registry.find(PluginKind.BROKERS, "consul", Named.class)).isEmpty();
        assertThatThrownBy(() -> registry.find(PluginKind.BROKERS, "vault", Special.class)).isInstanceOf(PluginException.class)
                .hasMessageContaining("does not implement Special");
    }

    @Test
    void cardinalityIsCheckedAsDeclared() {
        PluginKind keyManager = new PluginKind("key_manager", "key manager", PluginKind.Cardinality.EXACTLY_ONE);
        PluginKind.Cardinality.EXACTLY_ONE.check(keyManager, Set.of("disk"));
        assertThatThrownBy(() -> PluginKind.Cardinality.EXACTLY_ONE.check(keyManager, List.of("disk", "pkcs11")))
                .hasMessage("key_manager configures disk, pkcs11; exactly one is required");
        PluginKind attestors = new PluginKind("node_attestors", "node attestor", PluginKind.Cardinality.ONE_OR_MORE);
        assertThatThrownBy(() -> PluginKind.Cardinality.ONE_OR_MORE.check(attestors, List.of()))
                .hasMessage("node_attestors configures no node attestor; at least one is required");
        PluginKind.Cardinality.ZERO_OR_MORE.check(PluginKind.BROKERS, List.of());
    }

    @Test
    void everyInstalledPluginIsWellFormed() throws Exception {
        for (var section : List.of("brokers", "node_attestors")) {
            assertThat(PluginRegistry.installed().section(section)).isNotEmpty().allSatisfy((type, plugin) -> {
                assertThat(type).matches("[a-z][a-z0-9_]{0,31}");
                assertThat(plugin.kind().section()).isEqualTo(section);
                assertThat(plugin.settingsType().isRecord()).isTrue();
                assertThat(java.util.Arrays.stream(plugin.getClass().getConstructors()).anyMatch(c -> c.getParameterCount() == 0))
                        .as("ServiceLoader needs a public no-argument constructor").isTrue();
            });
        }
    }
}
