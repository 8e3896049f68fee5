package dev.sigil.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {
    private static final PluginKind BROKERS = new PluginKind("server", "brokers", "broker", PluginKind.Cardinality.ZERO_OR_MORE);
    private static final PluginKind AGENT_BROKERS = new PluginKind("agent", "brokers", "broker", PluginKind.Cardinality.ZERO_OR_MORE);

    record Settings(String value) {
    }

    /** A plugin of the brokers kind that is not a broker plugin (only the registry's contract is exercised). */
    static final class Named implements Plugin<Settings> {
        private final String type;
        private final PluginKind kind;

        Named(String type) {
            this(type, BROKERS);
        }

        Named(String type, PluginKind kind) {
            this.type = type;
            this.kind = kind;
        }

        @Override
        public PluginKind kind() {
            return kind;
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
                .isInstanceOf(PluginException.class).hasMessageContaining("two server broker plugins are named 'vault'");
    }

    @Test
    void pluginsOfOneNameForDifferentProgramsAreDifferentPlugins() {
        PluginRegistry registry = PluginRegistry.of(List.of(new Named("x509pop"), new Named("x509pop", AGENT_BROKERS)));
        assertThat(registry.plugins(BROKERS)).containsOnlyKeys("x509pop");
        assertThat(registry.plugins(AGENT_BROKERS)).containsOnlyKeys("x509pop");
        assertThat(registry.plugins(BROKERS).get("x509pop")).isNotSameAs(registry.plugins(AGENT_BROKERS).get("x509pop"));
    }

    @Test
    void aPluginIsFoundByKindAndNameOnlyWhenItHasTheKindsInterface() {
        PluginRegistry registry = PluginRegistry.of(List.of(new Named("vault")));

        assertThat(registry.plugins(BROKERS)).containsOnlyKeys("vault");
        assertThat(registry.find(BROKERS, "vault", Named.class)).isPresent();
        assertThat(registry.find(BROKERS, "consul", Named.class)).isEmpty();
        assertThatThrownBy(() -> registry.find(BROKERS, "vault", Special.class)).isInstanceOf(PluginException.class)
                .hasMessageContaining("does not implement Special");
    }

    @Test
    void cardinalityIsCheckedAsDeclared() {
        PluginKind keyManager = new PluginKind("server", "key_manager", "key manager", PluginKind.Cardinality.EXACTLY_ONE);
        PluginKind.Cardinality.EXACTLY_ONE.check(keyManager, Set.of("disk"));
        assertThatThrownBy(() -> PluginKind.Cardinality.EXACTLY_ONE.check(keyManager, List.of("disk", "pkcs11")))
                .hasMessage("key_manager configures disk, pkcs11; exactly one is required");
        PluginKind attestors = new PluginKind("server", "node_attestors", "node attestor", PluginKind.Cardinality.ONE_OR_MORE);
        assertThatThrownBy(() -> PluginKind.Cardinality.ONE_OR_MORE.check(attestors, List.of()))
                .hasMessage("node_attestors configures no node attestor; at least one is required");
        PluginKind.Cardinality.ZERO_OR_MORE.check(BROKERS, List.of());
    }
}
